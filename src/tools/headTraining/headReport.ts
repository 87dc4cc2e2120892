/** The calibration report of a head against the plain q(x) baseline: metrics as JSON and a reliability diagram (SVG and PNG). */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { renderSvg, svgToPng } from "../../bench/benchFigures.js";
import type { CalibrationReport } from "./calibration.js";

export interface HeadEvaluation {
  heldOutExamples: number;
  trainingExamples: number;
  head: CalibrationReport;
  baselineQ: CalibrationReport;
}

function reliabilitySpec(e: HeadEvaluation, headName: string): object {
  const points = [
    ...e.head.bins.map((b) => ({ predictor: headName, predicted: b.meanPredicted, observed: b.meanObserved, count: b.count })),
    ...e.baselineQ.bins.map((b) => ({ predictor: "q(x) alone", predicted: b.meanPredicted, observed: b.meanObserved, count: b.count })),
  ];
  const axis = { type: "quantitative", scale: { domain: [0, 1] } } as const;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    background: "white",
    padding: 12,
    width: 360,
    height: 360,
    title: `Reliability on held-out prompts (AUC ${e.head.auc.toFixed(3)} vs ${e.baselineQ.auc.toFixed(3)}; Brier ${e.head.brier.toFixed(3)} vs ${e.baselineQ.brier.toFixed(3)})`,
    layer: [
      {
        data: { values: [{ x: 0 }, { x: 1 }] },
        mark: { type: "line", color: "#999", strokeDash: [4, 4] },
        encoding: { x: { field: "x", ...axis, title: "predicted acceptance" }, y: { field: "x", ...axis, title: "observed acceptance" } },
      },
      {
        data: { values: points },
        mark: { type: "line", point: true },
        encoding: {
          x: { field: "predicted", ...axis },
          y: { field: "observed", ...axis },
          color: { field: "predictor", type: "nominal" },
          size: { field: "count", type: "quantitative", legend: null },
        },
      },
    ],
  };
}

/** Writes calibration.json, reliability.svg and reliability.png into `dir`. */
export async function writeHeadReport(dir: string, e: HeadEvaluation, headName: string): Promise<void> {
  writeFileSync(path.join(dir, "calibration.json"), `${JSON.stringify(e, null, 2)}\n`);
  const svg = await renderSvg(reliabilitySpec(e, headName));
  writeFileSync(path.join(dir, "reliability.svg"), svg);
  writeFileSync(path.join(dir, "reliability.png"), svgToPng(svg));
}
