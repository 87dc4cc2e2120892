/**
 * A session's or a set of rows' ability, for tests that know the backend has it (llama.cpp's): the test fails
 * with the ability's name where it is missing, and the caller gets it typed, without `!`.
 */
import type { LogitRows, RowCapabilities } from "../../src/model/rows.js";
import type { ModelSession, SessionCapabilities } from "../../src/model/session.js";

type Ability = Exclude<keyof SessionCapabilities, "passNumerics">;

export function sessionAbility<K extends Ability>(session: ModelSession, key: K): NonNullable<SessionCapabilities[K]> {
  const ability = session.capabilities[key];
  if (!ability) throw new Error(`the session has no ${key}`);
  return ability as NonNullable<SessionCapabilities[K]>;
}

export function rowAbility<K extends keyof RowCapabilities>(rows: LogitRows, key: K): NonNullable<RowCapabilities[K]> {
  const ability = rows.capabilities[key];
  if (!ability) throw new Error(`the rows have no ${key}`);
  return ability as NonNullable<RowCapabilities[K]>;
}
