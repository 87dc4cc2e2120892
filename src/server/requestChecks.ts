/** Checks a request meets before its route runs: the method, the API key, and a JSON body's content type. */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { ApiError, wrongMethod } from "./apiErrors.js";

/** The method a route takes; a GET route answers HEAD too (Node sends no body for it). */
export function checkMethod(req: IncomingMessage, path: string, method: "GET" | "POST"): void {
  const allowed = method === "GET" ? ["GET", "HEAD"] : [method];
  if (!allowed.includes(req.method ?? "")) throw wrongMethod(path, allowed);
}

const digest = (text: string) => createHash("sha256").update(text).digest();

/**
 * `Authorization: Bearer <key>` (the scheme in any case, as RFC 7235 has it). The digests are compared, in
 * constant time and at one length, so neither the time taken nor an early exit tells how much of a guess was right.
 */
export function checkApiKey(req: IncomingMessage, key: string | undefined): void {
  if (key === undefined) return;
  const given = /^bearer\s+(.+)$/i.exec(req.headers.authorization ?? "")?.[1]?.trim();
  if (given === undefined || !timingSafeEqual(digest(given), digest(key)))
    throw new ApiError(401, "a valid API key is needed (Authorization: Bearer <key>)", "authentication_error", null, "invalid_api_key");
}

/**
 * A POST body must be JSON: a content type that says otherwise is a 415. A missing one is taken as JSON (OpenAI's
 * clients always send application/json; a bare `curl -d` says application/x-www-form-urlencoded and is refused).
 */
export function checkJsonContentType(req: IncomingMessage): void {
  const type = req.headers["content-type"];
  if (type === undefined) return;
  const media = type.split(";")[0].trim().toLowerCase();
  if (media !== "application/json")
    throw new ApiError(415, `the request body must be application/json, got content type '${type}'`, "invalid_request_error", null, "unsupported_media_type");
}
