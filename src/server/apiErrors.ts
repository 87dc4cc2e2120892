/** Errors the server answers with, in the OpenAI error shape: { error: { message, type, param, code } }. */

export type ApiErrorType = "invalid_request_error" | "authentication_error" | "not_found_error" | "rate_limit_error" | "server_error" | "timeout_error";

export class ApiError extends Error {
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

/** Any failure as an ApiError: ours as they are, anything else as a 500 that keeps its message. */
export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ApiError(500, message, "server_error");
}
