// The errors of ormdb: one class per code of docs/reference/errors.md, all
// under OrmdbError. `code` is the code's name ("CONSTRAINT_VIOLATION"),
// `message` what failed, `retryable` whether the same request may succeed
// when retried.

export type ErrorCode =
  | "INVALID_ARGUMENT"
  | "SCHEMA_ERROR"
  | "NOT_FOUND"
  | "CONSTRAINT_VIOLATION"
  | "CONFLICT"
  | "BUDGET_EXCEEDED"
  | "MIGRATION_REFUSED"
  | "PERMISSION_DENIED"
  | "UNAUTHENTICATED"
  | "HISTORY_LOST"
  | "RESOURCE_EXHAUSTED"
  | "UNAVAILABLE"
  | "INTERNAL";

export class OrmdbError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, retryable = false) {
    super(message);
    this.code = code;
    this.retryable = retryable;
  }

  override toString(): string {
    return `${this.code}: ${this.message}`;
  }
}

// Fix the request: syntax, a bad parameter, value or cursor.
export class InvalidArgumentError extends OrmdbError {
  constructor(message: string) {
    super("INVALID_ARGUMENT", message);
    this.name = "InvalidArgumentError";
  }
}

// Fix the request: an unknown or mismatched name.
export class SchemaError extends OrmdbError {
  constructor(message: string) {
    super("SCHEMA_ERROR", message);
    this.name = "SchemaError";
  }
}

// The row, directory or thing does not exist.
export class NotFoundError extends OrmdbError {
  constructor(message: string) {
    super("NOT_FOUND", message);
    this.name = "NotFoundError";
  }
}

// The data would break a constraint (unique, check, reference).
export class ConstraintViolationError extends OrmdbError {
  constructor(message: string) {
    super("CONSTRAINT_VIOLATION", message);
    this.name = "ConstraintViolationError";
  }
}

// A concurrent change won: retry.
export class ConflictError extends OrmdbError {
  constructor(message: string) {
    super("CONFLICT", message, true);
    this.name = "ConflictError";
  }
}

// The fetch went over its budget: narrow it, raise the budget, or truncate.
export class BudgetExceededError extends OrmdbError {
  constructor(message: string) {
    super("BUDGET_EXCEEDED", message);
    this.name = "BudgetExceededError";
  }
}

// The schema change needs allowDestructive, or cannot be applied to the data.
export class MigrationRefusedError extends OrmdbError {
  constructor(message: string) {
    super("MIGRATION_REFUSED", message);
    this.name = "MigrationRefusedError";
  }
}

// The key's roles do not allow the request.
export class PermissionDeniedError extends OrmdbError {
  constructor(message: string) {
    super("PERMISSION_DENIED", message);
    this.name = "PermissionDeniedError";
  }
}

// The key is missing or wrong.
export class UnauthenticatedError extends OrmdbError {
  constructor(message: string) {
    super("UNAUTHENTICATED", message);
    this.name = "UnauthenticatedError";
  }
}

// The version asked for (as_of, a watch token) is older than the history kept.
export class HistoryLostError extends OrmdbError {
  constructor(message: string) {
    super("HISTORY_LOST", message);
    this.name = "HistoryLostError";
  }
}

// A limit of the server or the request was reached.
export class ResourceExhaustedError extends OrmdbError {
  constructor(message: string) {
    super("RESOURCE_EXHAUSTED", message);
    this.name = "ResourceExhaustedError";
  }
}

// The server cannot be reached or is shutting down: retry.
export class UnavailableError extends OrmdbError {
  constructor(message: string) {
    super("UNAVAILABLE", message, true);
    this.name = "UnavailableError";
  }
}

// A bug: report it.
export class InternalError extends OrmdbError {
  constructor(message: string) {
    super("INTERNAL", message);
    this.name = "InternalError";
  }
}

// The wire's numbering (ormdb::ErrorCode, append-only): code n is CODES[n - 1].
const CODES: ReadonlyArray<new (message: string) => OrmdbError> = [
  InvalidArgumentError,
  SchemaError,
  NotFoundError,
  ConstraintViolationError,
  ConflictError,
  BudgetExceededError,
  MigrationRefusedError,
  PermissionDeniedError,
  UnauthenticatedError,
  HistoryLostError,
  ResourceExhaustedError,
  UnavailableError,
  InternalError,
];

// The error a reply's `error {code, message}` stands for.
export function errorFromWire(code: number, message: string): OrmdbError {
  const cls = CODES[code - 1];
  if (cls) return new cls(message);
  return new InternalError(`error code ${code} (a newer server?): ${message}`);
}
