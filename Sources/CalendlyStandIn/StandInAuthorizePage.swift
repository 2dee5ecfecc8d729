import AvailClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The stand-in's consent page for `GET /oauth/authorize`: which app asks, who is signed in
/// (a choice of the seeded users, by slug), and Approve or Deny. Plain HTML with stable ids
/// (`#user`, `#approve`, `#deny`) for a browser test. Everything echoed is escaped.
enum StandInAuthorizePage {
    static func consent(clientID: String, members: [StandInMember], parameters: [(name: String, value: String)]) -> String {
        let options = members.compactMap { member -> String? in
            guard let slug = member.user.slug else { return nil }
            let label = "\(member.user.name) <\(member.user.email ?? slug)>"
            return #"      <option value="\#(escape(slug))">\#(escape(label))</option>"#
        }
        let hidden = parameters.map { #"    <input type="hidden" name="\#(escape($0.name))" value="\#(escape($0.value))">"# }
        return """
            <!doctype html>
            <html lang="en">
            <head><meta charset="utf-8"><title>Authorize \(escape(clientID)) - Calendly stand-in</title></head>
            <body>
            <h1>Authorize <span id="client">\(escape(clientID))</span></h1>
            <p>The app <strong>\(escape(clientID))</strong> asks to use your Calendly account.</p>
            <form id="authorize" method="post" action="/oauth/authorize">
            \(hidden.joined(separator: "\n"))
                <label for="user">Signed in as</label>
                <select id="user" name="user">
            \(options.joined(separator: "\n"))
                </select>
                <button id="approve" type="submit" name="decision" value="approve">Approve</button>
                <button id="deny" type="submit" name="decision" value="deny">Deny</button>
            </form>
            </body>
            </html>

            """
    }

    /// A request the stand-in will not redirect back for: an unknown client, a redirect URI not
    /// registered for it, a user or decision it does not know.
    static func error(_ message: String) -> String {
        """
        <!doctype html>
        <html lang="en">
        <head><meta charset="utf-8"><title>Authorization error - Calendly stand-in</title></head>
        <body>
        <h1>Authorization error</h1>
        <p id="error">\(escape(message))</p>
        </body>
        </html>

        """
    }

    static func response(_ status: HTTPResponse.Status, _ html: String) -> Response {
        Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store", HTTPField.Name("X-Frame-Options")!: "DENY"],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
