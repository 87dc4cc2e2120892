/**
 * The ranges of the generation settings users give: one table for the command line's flags and the server's
 * request fields, so that what one takes the other takes too.
 */

export interface SettingRange {
  readonly low: number;
  readonly high: number;
  /** The low end itself is out (top-p 0 would keep no token). */
  readonly lowOpen?: boolean;
  readonly integer?: boolean;
}

export const SETTING_RANGES = {
  /** OpenAI's range: above 2 a distribution is close to uniform. */
  temperature: { low: 0, high: 2 },
  topP: { low: 0, high: 1, lowOpen: true },
  /** 0: every token. */
  topK: { low: 0, high: 2 ** 30, integer: true },
  seed: { low: Number.MIN_SAFE_INTEGER, high: Number.MAX_SAFE_INTEGER, integer: true },
  /** Draft length: a longer block is all but certain to be cut early. */
  k: { low: 1, high: 64, integer: true },
  maxTokens: { low: 1, high: Number.MAX_SAFE_INTEGER, integer: true },
} as const satisfies Record<string, SettingRange>;

export function inSettingRange(r: SettingRange, v: number): boolean {
  if (!Number.isFinite(v) || (r.integer && !Number.isInteger(v))) return false;
  return (r.lowOpen ? v > r.low : v >= r.low) && v <= r.high;
}

/** The range in words: "a number from 0 to 2", "a number in (0, 1]", "a whole number >= 1", "a whole number". */
export function describeRange(r: SettingRange): string {
  const kind = r.integer ? "a whole number" : "a number";
  const unbounded = r.high >= Number.MAX_SAFE_INTEGER;
  if (unbounded && r.low <= Number.MIN_SAFE_INTEGER) return kind;
  if (unbounded) return `${kind} ${r.lowOpen ? ">" : ">="} ${r.low}`;
  return r.lowOpen ? `${kind} in (${r.low}, ${r.high}]` : `${kind} from ${r.low} to ${r.high}`;
}
