// The help texts of the `ormdb` command line: the overview (`ormdb help`),
// each command's usage, options and one example (`ormdb help COMMAND`,
// `ormdb COMMAND --help`), and the short usage a usage error prints.
// docs/reference/cli.md is the long form of the same.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ormdb::tools {

struct CommandHelp {
  std::string_view name;     // "query", "schema apply"
  std::string_view usage;    // the synopsis lines, each starting "ormdb "
  std::string_view summary;  // one line: what the command does
  std::string_view options;  // the options and arguments, one per line; may be empty
  std::string_view example;  // one example: "$ ormdb ..." lines, maybe with output
};

// Every command's help, in the order `ormdb help` lists them.
const std::vector<CommandHelp>& AllCommandHelp();

// The help of `command` ("query", "schema apply"; "schema" names the three
// schema commands together), or nullptr when there is no such command.
const CommandHelp* FindCommandHelp(std::string_view command);

// `ormdb help`: the commands with their summaries, the connection options
// and the environment.
std::string OverviewHelp();

// `ormdb help COMMAND`: the usage, summary, options and example.
std::string FullHelp(const CommandHelp& help);

// What a usage error prints after its cause: the command's usage and where
// to read more (the general usage line when `command` is not a command).
std::string ShortUsage(std::string_view command);

// The command nearest to a misspelled `word` (edit distance at most 2), or
// empty.
std::string SuggestCommand(std::string_view word);

// "ormdb 0.6.0".
std::string VersionText();

}  // namespace ormdb::tools
