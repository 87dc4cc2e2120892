/** The raw results as CSV (one row per generation), written row by row, and read back. */
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import { type BenchRow, CSV_COLUMNS } from "./benchTypes.js";

const TEXT_COLUMNS = new Set<keyof BenchRow>(["variant", "policy", "acceptanceByPosition", "output"]);

/** Numbers as written: unknown values (NaN, for peers that do not report them) as empty cells. */
function cells(row: BenchRow): (string | number)[] {
  return CSV_COLUMNS.map((c) => {
    const v = row[c];
    return typeof v === "number" && !Number.isFinite(v) ? "" : v;
  });
}

export class CsvRowWriter {
  constructor(readonly file: string) {
    writeFileSync(file, stringify([CSV_COLUMNS]));
  }

  append(row: BenchRow): void {
    appendFileSync(this.file, stringify([cells(row)]));
  }
}

/** Reads a results CSV back into rows (empty numeric cells become NaN). */
export function readBenchCsv(file: string): BenchRow[] {
  const records = parse(readFileSync(file, "utf8"), { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  return records.map(
    (r) => Object.fromEntries(CSV_COLUMNS.map((c) => [c, TEXT_COLUMNS.has(c) ? r[c] : r[c] === "" ? Number.NaN : Number(r[c])])) as unknown as BenchRow,
  );
}
