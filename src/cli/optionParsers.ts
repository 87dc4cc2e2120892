/** Parsers for numeric CLI options that say exactly what is wrong. */
import { InvalidArgumentError } from "commander";
import { describeRange, inSettingRange, type SettingRange } from "../generation/settingRanges.js";

export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive whole number, got "${value}"`);
  return n;
}

export function nonNegativeInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a whole number >= 0, got "${value}"`);
  return n;
}

export function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`expected a whole number, got "${value}"`);
  return n;
}

export function finiteNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got "${value}"`);
  return n;
}

export function nonNegativeNumber(value: string): number {
  const n = finiteNumber(value);
  if (n < 0) throw new InvalidArgumentError(`expected a number >= 0, got "${value}"`);
  return n;
}

export function positiveNumber(value: string): number {
  const n = finiteNumber(value);
  if (!(n > 0)) throw new InvalidArgumentError(`expected a number > 0, got "${value}"`);
  return n;
}

/** A parser for a setting whose range the server shares (SETTING_RANGES). */
export function inRange(range: SettingRange): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === "" || !inSettingRange(range, n)) throw new InvalidArgumentError(`expected ${describeRange(range)}, got "${value}"`);
    return n;
  };
}

/** A TCP port: 0 (any free one) to 65535. */
export function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`expected a port from 0 to 65535, got "${value}"`);
  return n;
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
