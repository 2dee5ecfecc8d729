import AsyncHTTPClient
import AvailClient
import AvailTesting
import Foundation
import NIOCore
import NIOHTTP1
import Testing

let signingKey = "e2e-signing-key"
let adminToken = "e2e-admin-token"

/// `GET path` as admin, as a JSON object.
func adminJSON(_ path: String, port: Int) async throws -> [String: Any] {
    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
    request.headers.add(name: "Authorization", value: "Bearer \(adminToken)")
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
    let body = try await response.body.collect(upTo: 1 << 26)
    return try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] ?? [:]
}

/// Every event of a running daemon, through `GET /events`.
func allEvents(port: Int) async throws -> [[String: Any]] {
    var events: [[String: Any]] = []
    var after = 0
    while true {
        let page = try await adminJSON("/events?after=\(after)&limit=1000", port: port)
        let items = page["events"] as? [[String: Any]] ?? []
        if items.isEmpty { return events }
        events += items
        after = page["next_after"] as? Int ?? after
    }
}

func get(_ path: String, port: Int) async throws -> Int {
    let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)"), timeout: .seconds(10))
    _ = try await response.body.collect(upTo: 1 << 20)
    return Int(response.status.code)
}

func serveArguments(_ database: String) -> [String] {
    ["--database", database, "--signing-key", signingKey, "--admin-token", adminToken]
}

/// Any request, as admin unless another `bearer` token (or none) is given; the status and the
/// body as JSON.
func adminRequest(
    _ method: String, _ path: String, json: String? = nil, bearer: String? = adminToken, port: Int
) async throws -> (status: Int, json: [String: Any]) {
    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
    request.method = HTTPMethod(rawValue: method)
    if let bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
    if let json {
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: json))
    }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
    let body = try await response.body.collect(upTo: 1 << 26)
    return (Int(response.status.code), (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]) ?? [:])
}

/// Seals Calendly tokens where a test gives the daemon its secret key (on PostgreSQL it must).
let secretKey = "e2e-secret-key-long-enough-to-seal-with"

/// Where a test keeps its data: an SQLite file in the test's folder, or a fresh database on the
/// test PostgreSQL server.
enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }

    func database(in folder: TemporaryDirectory) throws -> String {
        switch self {
        case .sqlite: folder.path("var/availd.sqlite")
        case .postgres: try TestPostgres.server().newDatabase()
        }
    }

    /// What `serve` must also be given here: on PostgreSQL every daemon shares the secrets, so
    /// none is made up and kept beside the database.
    var sharedSecrets: [String] {
        switch self {
        case .sqlite: []
        case .postgres: ["--signing-key", signingKey, "--secret-key", secretKey]
        }
    }
}

/// Runs `availd ARGUMENTS…` with a pseudo-terminal as its standard output and error, as an
/// operator's shell gives it; what it wrote, with the terminal's line ends made `\n`.
func runOnTerminal(_ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, text: String) {
    let terminal = ["python3", "-c", "import os, pty, sys; sys.exit(os.waitstatus_to_exitcode(pty.spawn(sys.argv[1:])))"]
    let child = try AvaildProcess("availd", arguments, environment: environment, launcher: terminal)
    let status = try await child.waitForExit(timeout: .seconds(120))
    return (status, await child.stdoutText().replacingOccurrences(of: "\r\n", with: "\n"))
}
