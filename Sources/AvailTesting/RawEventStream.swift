import AvailClient
import Foundation

/// The settings page's event stream over a raw connection, so a test can wait for its end
/// with a time-out that cannot hang (an HTTP client's body does not end when its reader is
/// cancelled).
public struct RawEventStream: Sendable {
    public let connection: RawHTTPConnection
    /// The answer's status, and what arrived of it (the head, then the first event or a problem).
    public let status: Int
    public let received: String

    /// Opens `/experts/{expert}/availability-settings/stream` signed in with `token` and reads
    /// until the stream says `: connected` (or, refused, its problem document is in).
    public static func open(port: Int, expert: String, token: String) async throws -> RawEventStream {
        let connection = try RawHTTPConnection(port: port)
        await connection.send(
            "GET /experts/\(expert)/availability-settings/stream HTTP/1.1\r\nHost: t\r\nCookie: availd_session=\(token)\r\n\r\n")
        var text = String(decoding: await connection.read(until: "\r\n\r\n", timeout: 10).bytes, as: UTF8.self)
        let status = text.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } ?? 0
        // The rest of what says how it went: the first event, or the problem document.
        let marker = status == 200 ? ": connected" : "}"
        if !text.contains(marker) {
            text += String(decoding: await connection.read(until: marker, timeout: 10).bytes, as: UTF8.self)
        }
        return RawEventStream(connection: connection, status: status, received: text)
    }

    public var isConnected: Bool { status == 200 && received.contains(": connected") }

    /// Whether the stream ended (its last chunk arrived, or the connection closed) within
    /// `timeout` seconds.
    public func ends(within timeout: Double) async -> Bool {
        // The last chunk; the line ending before it may have come with the previous read.
        let (_, found, closed) = await connection.read(until: "0\r\n\r\n", timeout: timeout)
        return found || closed
    }
}
