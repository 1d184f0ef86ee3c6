// A self-contained HTML page: inline CSS, inline SVG charts, images as data: URIs,
// and the plotted numbers as an inline JSON block (so a test, or a reader, can check
// them against metrics.json). Nothing is fetched when the page is opened.

import Foundation

public enum HTML {
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}

public struct HTMLPage {
    public var title: String
    /// The `generator` meta tag's content: how `--report` recognises a folder it wrote before.
    public var generator: String
    private var body: [String] = []

    public init(title: String, generator: String) {
        self.title = title
        self.generator = generator
    }

    public mutating func heading(_ text: String, level: Int = 2) {
        body.append("<h\(level)>\(HTML.escape(text))</h\(level)>")
    }

    public mutating func paragraph(_ text: String, className: String? = nil) {
        body.append("<p\(className.map { " class=\"\($0)\"" } ?? "")>\(HTML.escape(text))</p>")
    }

    public mutating func chart(_ scene: PlotScene) { body.append("<div class=\"chart\">\(scene.svg())</div>") }

    /// Several charts side by side (wrapping on narrow windows).
    public mutating func charts(_ scenes: [PlotScene]) {
        body.append("<div class=\"row\">" + scenes.map { "<div class=\"chart\">\($0.svg())</div>" }.joined() + "</div>")
    }

    public mutating func table(header: [String], rows: [[String]], numericFrom: Int = 1) {
        var out = "<table><thead><tr>" + header.map { "<th>\(HTML.escape($0))</th>" }.joined() + "</tr></thead><tbody>"
        for row in rows {
            out += "<tr>" + row.enumerated().map { i, cell in
                "<td\(i >= numericFrom ? " class=\"num\"" : "")>\(HTML.escape(cell))</td>"
            }.joined() + "</tr>"
        }
        body.append(out + "</tbody></table>")
    }

    /// A grid of images (JPEG or PNG bytes) with captions.
    public mutating func imageGrid(_ images: [(data: Data, mime: String, caption: String)]) {
        var out = "<div class=\"grid\">"
        for image in images {
            out += "<figure><img alt=\"\(HTML.escape(image.caption))\" src=\"data:\(image.mime);base64,"
                + image.data.base64EncodedString() + "\"><figcaption>\(HTML.escape(image.caption))</figcaption></figure>"
        }
        body.append(out + "</div>")
    }

    public mutating func preformatted(_ text: String) { body.append("<pre>\(HTML.escape(text))</pre>") }

    /// The numbers the page plots, as JSON in a non-executed script block with id "report-data".
    public mutating func data(_ json: Data) {
        // "</" cannot end the block early: JSON text escapes "/" only optionally, so escape it here.
        let text = String(decoding: json, as: UTF8.self).replacingOccurrences(of: "</", with: "<\\/")
        body.append("<script type=\"application/json\" id=\"report-data\">\(text)</script>")
    }

    public func html() -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="generator" content="\(HTML.escape(generator))">
        <title>\(HTML.escape(title))</title>
        <style>
        body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#222;max-width:1400px}
        h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
        p.sub{color:#666;margin:0 0 12px}
        .row{display:flex;flex-wrap:wrap;gap:12px}.chart{margin:6px 0}
        table{border-collapse:collapse;font-size:13px;margin:6px 0}th,td{border:1px solid #ddd;padding:3px 8px;text-align:left}
        td.num{text-align:right;font-variant-numeric:tabular-nums}th{background:#f4f4f4}
        .grid{display:flex;flex-wrap:wrap;gap:10px}figure{margin:0;max-width:340px}figure img{max-width:340px;display:block}
        figcaption{font-size:12px;color:#555}pre{background:#f7f7f7;padding:8px;font-size:12px;overflow:auto;max-height:320px}
        .key span{display:inline-block;margin-right:14px;font-size:13px}
        </style></head><body>
        <h1>\(HTML.escape(title))</h1>
        \(body.joined(separator: "\n"))
        </body></html>

        """
    }
}
