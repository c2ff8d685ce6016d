// WebPage: the annotation page's files (WebPageHTML, WebPageStyle, WebPageScript, WebPageVideoScript), embedded
// in the binary and served as they are — no build step, nothing fetched from the network.

import Foundation

enum WebPage {
    enum Asset {
        case html, script, videoScript, style
    }

    /// Only our own files and images made from our own data may load in the page.
    static let contentSecurityPolicy =
        "default-src 'self'; img-src 'self' blob: data:; connect-src 'self'; object-src 'none'; base-uri 'none'"

    static func response(_ asset: Asset) -> HTTPResponse {
        let (text, type): (String, String)
        switch asset {
        case .html: (text, type) = (WebPageHTML.text, "text/html; charset=utf-8")
        case .script: (text, type) = (WebPageScript.text, "text/javascript; charset=utf-8")
        case .videoScript: (text, type) = (WebPageVideoScript.text, "text/javascript; charset=utf-8")
        case .style: (text, type) = (WebPageStyle.text, "text/css; charset=utf-8")
        }
        return HTTPResponse(
            contentType: type, body: Data(text.utf8), header: ("Content-Security-Policy", contentSecurityPolicy))
    }
}
