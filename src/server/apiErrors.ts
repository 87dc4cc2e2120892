/** Errors the server answers with, in the OpenAI error shape: { error: { message, type, param, code } }. */

export type ApiErrorType = "invalid_request_error" | "authentication_error" | "not_found_error" | "rate_limit_error" | "server_error" | "timeout_error";

export class ApiError extends Error {
  /** Headers the response carries besides the content type (Retry-After, Allow). */
  readonly headers: Record<string, string> = {};

  constructor(
    readonly status: number,
    message: string,
    readonly type: ApiErrorType = "invalid_request_error",
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
  }

  get body(): { error: { message: string; type: ApiErrorType; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** A 400 naming the request field at fault. */
export function invalidField(param: string, message: string): ApiError {
  return new ApiError(400, message, "invalid_request_error", param, "invalid_value");
}

/** A 400 naming a request field that asks for a feature this server does not have. */
export function unsupportedField(param: string, message: string): ApiError {
  return new ApiError(400, message, "invalid_request_error", param, "unsupported_parameter");
}

/** A 429: the slots and the waiting line are full. Retry-After: a second, about when a slot may be free again. */
export function busy(message: string): ApiError {
  const e = new ApiError(429, message, "rate_limit_error");
  e.headers["retry-after"] = "1";
  return e;
}

/** A 405 for a route that takes another method, with the Allow header naming the methods it does take. */
export function wrongMethod(path: string, allowed: readonly string[]): ApiError {
  const e = new ApiError(405, `${path} takes ${allowed.join(" or ")}`, "invalid_request_error", null, "method_not_allowed");
  e.headers.allow = allowed.join(", ");
  return e;
}

/** A 503 while the server shuts down: to a new request (`cut` false), or one the grace period did not see finish. */
export function shuttingDown(cut = false): ApiError {
  const message = cut ? "the server shut down before this request finished" : "the server is shutting down";
  const e = new ApiError(503, message, "server_error", null, "server_shutting_down");
  e.headers.connection = "close";
  return e;
}

/** Any failure as an ApiError: ours as they are, anything else as a 500 that keeps its message. */
export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ApiError(500, message, "server_error");
}
