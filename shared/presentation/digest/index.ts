/**
 * The digest's and the roll-up's renderings: HTML email, plain text, CSV and the 12-week chart, from
 * the models of shared/domain/digest. Every stranger-supplied string is cleaned here; the HTML
 * is written with the escape-by-default `html` template (../html.ts), which escapes every value.
 */
export { type ChartHtmlOptions, renderChartHtml, renderChartText } from './render-chart.ts';
export {
  CSV_HEADER,
  type CsvOptions,
  csvCell,
  csvRow,
  type DigestEvent,
  type DigestEventType,
  digestCsvFilename,
  digestEvents,
  renderDigestCsv,
} from './render-csv.ts';
export {
  badge,
  button,
  compactUserLine,
  DEFAULT_MAX_CANDIDATES,
  DEFAULT_MAX_HTML_BYTES,
  DEFAULT_MAX_LISTED,
  digestPreheader,
  emailDocument,
  type ListLimits,
  listLimits,
  type RenderOptions,
  renderDigestHtml,
  userLine,
} from './render-html.ts';
export { renderRollupHtml, renderRollupText } from './render-rollup.ts';
export { renderDigestText, userTextLine } from './render-text.ts';
