/**
 * The summary figure, as Vega-Lite specs rendered headlessly to SVG (vega's
 * renderer), and to PNG with resvg: throughput per variant with its spread
 * across repeats and the chain bound, speedup, mean accepted tokens per block,
 * model calls per sequence, and acceptance by draft position.
 */
import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import * as vl from "vega-lite";
import type { VariantSummary } from "./benchTypes.js";

const PANEL = { width: 380, height: 200 };
const VARIANT_AXIS = { field: "variant", type: "nominal", sort: null, axis: { labelAngle: -40, title: null } } as const;

function throughputPanel(s: VariantSummary[]) {
  const values = s.map((v) => ({
    variant: v.variant,
    tps: v.tokensPerSecond,
    min: v.tokensPerSecondMin,
    max: v.tokensPerSecondMax,
    bound: v.boundTokensPerSecond,
  }));
  return {
    ...PANEL,
    title: "Throughput (tokens/s)",
    data: { values },
    layer: [
      { mark: { type: "bar", color: "#4c78a8" }, encoding: { x: VARIANT_AXIS, y: { field: "tps", type: "quantitative", title: "tokens/s" } } },
      { mark: { type: "rule", color: "#222" }, encoding: { x: VARIANT_AXIS, y: { field: "min", type: "quantitative" }, y2: { field: "max" } } },
      {
        mark: { type: "point", shape: "diamond", filled: true, color: "#e45756", size: 80 },
        transform: [{ filter: "datum.bound != null" }],
        encoding: { x: VARIANT_AXIS, y: { field: "bound", type: "quantitative" } },
      },
    ],
  };
}

function barPanel(s: VariantSummary[], title: string, field: string, value: (v: VariantSummary) => number | null, color: string) {
  const values = s.map((v) => ({ variant: v.variant, [field]: value(v) })).filter((d) => d[field] !== null && Number.isFinite(d[field] as number));
  return { ...PANEL, title, data: { values }, mark: { type: "bar", color }, encoding: { x: VARIANT_AXIS, y: { field, type: "quantitative", title: null } } };
}

function callsPanel(s: VariantSummary[]) {
  const values = s
    .flatMap((v) => [
      { variant: v.variant, model: "target", calls: v.targetCallsPerSequence },
      { variant: v.variant, model: "drafter", calls: v.drafterCallsPerSequence },
    ])
    .filter((d) => Number.isFinite(d.calls));
  return {
    ...PANEL,
    title: "Model calls per sequence",
    data: { values },
    mark: "bar",
    encoding: {
      x: VARIANT_AXIS,
      xOffset: { field: "model" },
      y: { field: "calls", type: "quantitative", title: null },
      color: { field: "model", type: "nominal" },
    },
  };
}

function positionPanel(s: VariantSummary[]) {
  const values = s.flatMap((v) => v.acceptanceByPosition.map((rate, i) => ({ variant: v.variant, position: i + 1, rate })));
  return {
    ...PANEL,
    title: "Acceptance by draft position",
    data: { values },
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "position", type: "ordinal", title: "draft position" },
      y: { field: "rate", type: "quantitative", title: null, scale: { domain: [0, 1] } },
      color: { field: "variant", type: "nominal" },
    },
  };
}

/** The whole summary figure as one Vega-Lite spec. */
export function summarySpec(s: VariantSummary[]): object {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    background: "white",
    padding: 12,
    vconcat: [
      { hconcat: [throughputPanel(s), barPanel(s, "Speedup over target-only", "speedup", (v) => v.speedup, "#54a24b")] },
      { hconcat: [barPanel(s, "Mean accepted tokens per block", "mat", (v) => v.meanAcceptedPerBlock, "#f58518"), callsPanel(s)] },
      { hconcat: [positionPanel(s)] },
    ],
    resolve: { scale: { color: "independent" } },
  };
}

/** Renders a Vega-Lite spec to SVG text without a browser. */
export async function renderSvg(spec: object): Promise<string> {
  const compiled = vl.compile(spec as vl.TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rasterises SVG to PNG (resvg), at twice the size for sharp text. */
export function svgToPng(svg: string): Buffer {
  return new Resvg(svg, { fitTo: { mode: "zoom", value: 2 }, font: { loadSystemFonts: true } }).render().asPng();
}
