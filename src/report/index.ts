/** The HTML report: typed input (`ReportData`), `writeReport`, and the pieces it is built from. */
export * from "./types.ts";
export { writeReport, expectedPlots, type ReportResult, type PlotName } from "./report.ts";
export { validateReportData, parseTrainingLog, loadTrainingRecords } from "./validate.ts";
export { PAPER_RESULTS, PAPER_FPS, type PaperRow } from "./paper.ts";
export { errorMap, depthImage, labelImage, viridis, ERROR_COLORS, LABEL_IGNORE_COLOR } from "./images.ts";
export { renderSvg, perClassIouSpec, confusionSpec, trainingSpec, fpsSpec, consistencySpec } from "./plots.ts";
export { esc } from "./html.ts";
