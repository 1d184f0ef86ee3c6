// The web demo at `/`: one self-contained page (HTML, CSS, and the script in
// WebPageScript.swift), embedded so the binary serves it from anywhere and the
// browser fetches nothing but this server's own API.

enum WebPage {
    static let html: String = page.replacingOccurrences(of: "/*SCRIPT*/", with: WebPageScript.source)

    private static let page = #"""
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vision serve</title>
<style>
  :root { --bg: #f6f7f9; --fg: #1d2330; --muted: #6b7280; --line: #d9dde5; --accent: #2563eb; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--fg); }
  header { display: flex; flex-wrap: wrap; gap: 18px; align-items: center; padding: 12px 20px; background: #fff; border-bottom: 1px solid var(--line); }
  header h1 { font-size: 18px; margin: 0 12px 0 0; }
  header label { display: flex; gap: 8px; align-items: center; color: var(--muted); }
  select, button { font: inherit; padding: 4px 8px; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
  button { cursor: pointer; }
  button:hover { border-color: var(--accent); }
  #threshold { width: 180px; }
  #threshold-value { font-variant-numeric: tabular-nums; color: var(--fg); min-width: 2.6em; }
  main { padding: 20px; max-width: 1200px; margin: 0 auto; }
  #drop { border: 2px dashed var(--line); border-radius: 10px; padding: 26px; text-align: center; background: #fff; color: var(--muted); }
  #drop.over { border-color: var(--accent); background: #eef3ff; }
  #drop label { color: var(--accent); cursor: pointer; text-decoration: underline; }
  #file { display: none; }
  #status { min-height: 1.4em; margin: 10px 0; color: var(--muted); }
  #status.error, .result .error { color: #b91c1c; }
  .result { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 14px; margin: 16px 0; }
  .result h2 { font-size: 15px; margin: 0 0 10px; display: flex; gap: 10px; align-items: center; flex-wrap: wrap; }
  .result h2 .name { font-weight: 600; margin-right: auto; word-break: break-all; }
  .body { display: grid; grid-template-columns: minmax(0, 3fr) minmax(240px, 2fr); gap: 16px; align-items: start; }
  @media (max-width: 800px) { .body { grid-template-columns: 1fr; } }
  .stage { position: relative; display: inline-block; justify-self: start; max-width: 100%; line-height: 0; }
  .stage img { max-width: 100%; height: auto; display: block; border-radius: 4px; }
  .box { position: absolute; border: 2px solid; pointer-events: none; }
  .box span { position: absolute; left: -2px; bottom: 100%; padding: 1px 4px; font: 12px/1.3 system-ui, sans-serif; white-space: nowrap; color: #fff; }
  .box.hidden, tr.hidden { display: none; }
  table { border-collapse: collapse; width: 100%; font-size: 13px; }
  th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line); font-variant-numeric: tabular-nums; }
  th { color: var(--muted); font-weight: 500; }
  .swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: middle; }
  .summary { color: var(--muted); margin: 0 0 6px; font-size: 13px; }
</style>
</head>
<body>
<header>
  <h1>vision serve</h1>
  <label>Model <select id="model"></select></label>
  <label>Min probability <input id="threshold" type="range" min="0" max="1" step="0.01" value="0.5"><span id="threshold-value">0.50</span></label>
</header>
<main>
  <div id="drop">Drop JPEG or PNG images here, or <label for="file">choose files</label>.
    <input id="file" type="file" accept="image/jpeg,image/png" multiple>
  </div>
  <div id="status"></div>
  <div id="results"></div>
</main>
<script>
/*SCRIPT*/
</script>
</body>
</html>
"""#
}
