// The printers of a fetch query: the text form (FetchToText) and, with the
// literals lifted out, the shape key and its literals (ShapeKey,
// LiftedLiterals) that the plan cache is keyed on.
#include <string>
#include <vector>

#include "query/parse_rules.h"
#include "query/parser.h"

namespace ormdb::query {
namespace {

using namespace parse_rules;

// ===========================================================================
// Printers
// ===========================================================================

// Binding strength, loosest first: an operand is printed in parentheses when
// it binds more loosely than its position requires.
enum class Prec : uint8_t { kOr, kAnd, kNot, kPredicate };

Prec PrecOf(const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::kOr:
      return Prec::kOr;
    case Expr::Kind::kAnd:
      return Prec::kAnd;
    case Expr::Kind::kNot:
      return Prec::kNot;
    default:
      return Prec::kPredicate;
  }
}

// The kind letter of a lifted literal (parser.h, ShapeKey).
char KindLetter(const Json& j) {
  switch (j.kind()) {
    case Json::Kind::kBool:
      return 'b';
    case Json::Kind::kInt:
      return 'i';
    case Json::Kind::kDouble:
      return 'f';
    case Json::Kind::kString:
      return 's';
    case Json::Kind::kObject:
      return 'p';  // {"$param": name} in a list
    default:
      return 'n';  // null: never in a valid query
  }
}

// Prints the text form, or with `lifted` set, the shape (parser.h).
class TextPrinter {
 public:
  explicit TextPrinter(std::vector<Json>* lifted) : lifted_(lifted) {}

  std::string Print(const FetchQuery& query) {
    PrintSelection(query.root);
    return std::move(out_);
  }

  // One operand or predicate, for messages.
  std::string PrintAlone(const Expr& e) {
    PrintExpr(e, Prec::kOr);
    return std::move(out_);
  }

 private:
  void PrintSelection(const Selection& sel) {
    out_ += sel.name;
    const bool has_args = sel.where || !sel.order.empty() || sel.limit || sel.after;
    if (has_args) PrintArgs(sel);
    if (sel.children.empty() && (has_args || !sel.is_include)) return;
    out_ += " {";
    for (size_t i = 0; i < sel.children.size(); ++i) {
      out_ += i == 0 ? " " : ", ";
      const Selection& child = sel.children[i];
      if (child.is_include) {
        PrintSelection(child);
      } else if (child.aggregate) {
        PrintAggregate(child);
      } else {
        out_ += child.name;
      }
    }
    out_ += " }";
  }

  void PrintAggregate(const Selection& item) {
    const Aggregate& agg = *item.aggregate;
    out_ += item.name;
    out_ += ": ";
    out_ += AggregateFnName(agg.fn);
    out_ += '(';
    out_ += JoinPath(agg.path);
    if (agg.where) {
      out_ += " where ";
      PrintExpr(*agg.where, Prec::kOr);
    }
    out_ += ')';
  }

  void PrintArgs(const Selection& sel) {
    std::string_view separator = "(";
    if (sel.where) {
      out_ += separator;
      out_ += "where: ";
      PrintExpr(*sel.where, Prec::kOr);
      separator = ", ";
    }
    if (!sel.order.empty()) {
      out_ += separator;
      out_ += "order: ";
      if (sel.order.size() > 1) out_ += '[';
      for (size_t i = 0; i < sel.order.size(); ++i) {
        if (i > 0) out_ += ", ";
        out_ += JoinPath(sel.order[i].path);
        out_ += sel.order[i].descending ? " desc" : " asc";
      }
      if (sel.order.size() > 1) out_ += ']';
      separator = ", ";
    }
    if (sel.limit) {
      out_ += separator;
      out_ += "limit: ";
      if (lifted_) {
        out_ += '?';
        lifted_->push_back(*sel.limit);
      } else {
        out_ += std::to_string(*sel.limit);
      }
      separator = ", ";
    }
    if (sel.after) {
      out_ += separator;
      out_ += "after: ";
      if (lifted_) {
        out_ += '?';
        lifted_->push_back(*sel.after);
      } else {
        AppendJsonString(&out_, *sel.after);
      }
    }
    out_ += ')';
  }

  void PrintLiteral(const Json& literal) {
    if (lifted_) {
      out_ += '?';
      out_ += KindLetter(literal);
      lifted_->push_back(literal);
    } else {
      AppendJson(&out_, literal);
    }
  }

  void PrintList(const std::vector<Json>& list) {
    if (lifted_) {
      std::string kinds;
      for (const char k : std::string_view("bifsp")) {
        if (std::any_of(list.begin(), list.end(),
                        [k](const Json& j) { return KindLetter(j) == k; })) {
          kinds += k;
        }
      }
      out_ += "?[" + kinds + "]";
      lifted_->push_back(Json::Array(list));
      return;
    }
    out_ += '[';
    for (size_t i = 0; i < list.size(); ++i) {
      if (i > 0) out_ += ", ";
      const Json* param = list[i].is_object() ? list[i].Find("$param") : nullptr;
      if (param && param->is_string()) {
        out_ += '$';
        out_ += param->as_string();
      } else {
        AppendJson(&out_, list[i]);
      }
    }
    out_ += ']';
  }

  void PrintExpr(const Expr& e, Prec min) {
    const bool parens = PrecOf(e) < min;
    if (parens) out_ += '(';
    switch (e.kind) {
      case Expr::Kind::kLiteral:
        PrintLiteral(e.literal);
        break;
      case Expr::Kind::kParam:
        out_ += '$';
        out_ += e.name;
        break;
      case Expr::Kind::kPath:
        if (e.call >= 0) {  // a select's aggregate call
          out_ += AggregateFnName(static_cast<Aggregate::Fn>(e.call));
          out_ += '(' + JoinPath(e.path) + ')';
          break;
        }
        out_ += JoinPath(e.path);
        break;
      case Expr::Kind::kCompare:
        PrintChild(e, 0, Prec::kPredicate);
        out_ += ' ';
        out_ += CompareOpText(e.op);
        out_ += ' ';
        PrintChild(e, 1, Prec::kPredicate);
        break;
      case Expr::Kind::kIn:
        PrintChild(e, 0, Prec::kPredicate);
        out_ += e.negated ? " not in " : " in ";
        if (e.children.size() == 2) {
          PrintChild(e, 1, Prec::kPredicate);  // a rule's auth.<claim>
        } else {
          PrintList(e.list);
        }
        break;
      case Expr::Kind::kLike:
        PrintChild(e, 0, Prec::kPredicate);
        out_ += " like ";
        PrintChild(e, 1, Prec::kPredicate);
        break;
      case Expr::Kind::kIsNull:
        PrintChild(e, 0, Prec::kPredicate);
        out_ += e.negated ? " is not null" : " is null";
        break;
      case Expr::Kind::kAnd:
      case Expr::Kind::kOr: {
        const bool is_and = e.kind == Expr::Kind::kAnd;
        for (size_t i = 0; i < e.children.size(); ++i) {
          if (i > 0) out_ += is_and ? " and " : " or ";
          // An operand of the same operator would flatten when read back:
          // parenthesise it so the printed text keeps the tree it was given.
          PrintChild(e, i, is_and ? Prec::kNot : Prec::kAnd);
        }
        break;
      }
      case Expr::Kind::kNot:
        out_ += "not ";
        PrintChild(e, 0, Prec::kNot);
        break;
      case Expr::Kind::kExists:
        out_ += "exists(" + JoinPath(e.path);
        if (!e.children.empty()) {
          out_ += " where ";
          PrintExpr(*e.children[0], Prec::kOr);
        }
        out_ += ')';
        break;
    }
    if (parens) out_ += ')';
  }

  void PrintChild(const Expr& e, size_t i, Prec min) {
    if (i < e.children.size() && e.children[i]) {
      PrintExpr(*e.children[i], min);
    } else {
      out_ += "<missing>";  // a malformed IR; the parsers never build one
    }
  }

  std::vector<Json>* lifted_;
  std::string out_;
};

}  // namespace

std::string FetchToText(const FetchQuery& query) { return TextPrinter(nullptr).Print(query); }

std::string ShapeKey(const FetchQuery& query) {
  std::vector<Json> lifted;
  return TextPrinter(&lifted).Print(query);
}

std::vector<Json> LiftedLiterals(const FetchQuery& query) {
  std::vector<Json> lifted;
  TextPrinter(&lifted).Print(query);
  return lifted;
}

namespace parse_rules {

std::string ExprToText(const Expr& e) { return TextPrinter(nullptr).PrintAlone(e); }

}  // namespace parse_rules

}  // namespace ormdb::query
