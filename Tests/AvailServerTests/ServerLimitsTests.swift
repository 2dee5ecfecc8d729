import AvailClient
import AvailServer
import AvailTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// The limits of `ServerLimits`, each against a real socket: what a hostile or broken client
/// gets, and that the daemon goes on answering everyone else.
@Suite struct ServerLimitsTests {
    static func configuration(_ change: (inout ServerLimits) -> Void) -> AvailServer.Configuration {
        var configuration = AvailServer.Configuration.testing()
        change(&configuration.limits)
        return configuration
    }

    /// The status, headers (lowercased names) and body of one raw response.
    struct RawAnswer {
        var status: Int
        var headers: [String: String]
        var body: Data

        init?(_ bytes: Data) {
            guard let split = bytes.range(of: Data("\r\n\r\n".utf8)),
                  let head = String(data: bytes[..<split.lowerBound], encoding: .utf8)
            else { return nil }
            let lines = head.components(separatedBy: "\r\n")
            guard let status = lines.first?.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return nil }
            self.status = status
            self.headers = Dictionary(lines.dropFirst().compactMap { line in
                line.firstIndex(of: ":").map { (line[..<$0].lowercased(), line[line.index(after: $0)...].trimmingCharacters(in: .whitespaces)) }
            }, uniquingKeysWith: { $1 })
            self.body = bytes[split.upperBound...]
        }

        var code: String? {
            (try? JSONSerialization.jsonObject(with: body) as? [String: Any])?["code"] as? String
        }
    }

    /// One byte every 100 ms, as long as the server takes them and has not answered, for at
    /// most 15 s (a daemon without the time-out would be held that long).
    static func trickle(_ byte: String, to connection: RawHTTPConnection) async throws {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .seconds(15), !connection.hasDataToRead {
            guard await connection.send(byte) else { break }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    @Test func headersOverTheLimitGet431AndTheConnectionCloses() async throws {
        try await withDaemon(Self.configuration { $0.maxHeaderBytes = 4096 }) { daemon in
            let small = try RawHTTPConnection(port: daemon.port)
            await small.send("GET /healthz HTTP/1.1\r\nHost: t\r\nX-Pad: \(String(repeating: "a", count: 3000))\r\n\r\n")
            #expect(RawAnswer(await small.receive())?.status == 200)

            let large = try RawHTTPConnection(port: daemon.port)
            await large.send("GET /healthz HTTP/1.1\r\nHost: t\r\nX-Pad: \(String(repeating: "a", count: 8000))\r\n\r\n")
            let (bytes, closed) = await large.readUntilClosed(timeout: 10)
            let answer = try #require(RawAnswer(bytes))
            #expect(answer.status == 431)
            #expect(answer.code == "headers_too_large")
            #expect(answer.headers["content-type"] == "application/problem+json")
            #expect(answer.headers["log-position"] != nil)
            #expect(closed)
        }
    }

    @Test func aClientTricklingItsHeadersGets408() async throws {
        try await withDaemon(Self.configuration { $0.requestTimeout = .seconds(1); $0.idleTimeout = .seconds(10) }) { daemon in
            let slow = try RawHTTPConnection(port: daemon.port)
            let start = ContinuousClock.now
            await slow.send("GET /healthz HTTP/1.1\r\n")
            try await Self.trickle("X", to: slow)
            let (bytes, closed) = await slow.readUntilClosed(timeout: 10)
            let elapsed = ContinuousClock.now - start
            let answer = try #require(RawAnswer(bytes))
            #expect(answer.status == 408)
            #expect(answer.code == "request_timeout")
            #expect(closed)
            // The time-out is 1 s; the rest is slack for a loaded machine.
            #expect(elapsed < .seconds(10), "held for \(elapsed)")
            // Everyone else is still answered.
            #expect(try await daemon.client.execute(uri: "/healthz", method: .get).status == .ok)
        }
    }

    @Test func aClientTricklingItsBodyGets408() async throws {
        try await withDaemon(Self.configuration { $0.requestTimeout = .seconds(1) }) { daemon in
            let slow = try RawHTTPConnection(port: daemon.port)
            let start = ContinuousClock.now
            await slow.send("POST /webhooks/calendly HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
            try await Self.trickle(" ", to: slow)
            let (bytes, closed) = await slow.readUntilClosed(timeout: 10)
            #expect(closed)
            #expect(ContinuousClock.now - start < .seconds(10))
            // Either the 408, or (had the handler already answered) the connection simply ends.
            if let answer = RawAnswer(bytes) {
                #expect(answer.status == 408)
                #expect(answer.code == "request_timeout")
            }
            #expect(try await daemon.allEvents().isEmpty)
        }
    }

    @Test func anIdleConnectionIsClosedQuietly() async throws {
        // Long enough that a loaded machine (CI beside a build) sends the second request on the
        // used connection before it idles out.
        try await withDaemon(Self.configuration { $0.idleTimeout = .seconds(3) }) { daemon in
            let silent = try RawHTTPConnection(port: daemon.port)
            let (nothing, closed) = await silent.readUntilClosed(timeout: 10)
            #expect(closed)
            #expect(nothing.isEmpty)

            // A used connection is kept alive for the next request, then idles out too.
            let used = try RawHTTPConnection(port: daemon.port)
            for _ in 0..<2 {
                await used.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(RawAnswer(await used.receive())?.status == 200)
            }
            let (rest, closedAfter) = await used.readUntilClosed(timeout: 10)
            #expect(closedAfter && rest.isEmpty)
        }
    }

    /// Answered before its body arrived (a 401 needs no body), the request still ends, and the
    /// connection then idles out like any other.
    @Test func aConnectionAnsweredBeforeItsBodyStillIdlesOut() async throws {
        // Long enough that a loaded machine answers the 401 before the connection idles out
        // (at 500 ms, CI beside other suites once closed it first).
        try await withDaemon(Self.configuration { $0.idleTimeout = .seconds(3) }) { daemon in
            let connection = try RawHTTPConnection(port: daemon.port)
            await connection.send("POST /experts/ada/tokens HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\n")
            #expect(RawAnswer(await connection.receive())?.status == 401)
            await connection.send("{\"a\"}")
            let (rest, closed) = await connection.readUntilClosed(timeout: 10)
            #expect(closed, "the connection was never closed")
            #expect(rest.isEmpty)
        }
    }

    @Test func pastTheConnectionBoundANewConnectionGets503() async throws {
        try await withDaemon(Self.configuration { $0.maxConnections = 4; $0.retryAfterSeconds = 2 }) { daemon in
            // Open connections until one is refused: the bound holds at 4 (the test client's own
            // connection, when it has one open, takes a place too).
            var held: [RawHTTPConnection] = []
            var refusal: (answer: RawAnswer?, connection: RawHTTPConnection)?
            while refusal == nil, held.count < 10 {
                let connection = try RawHTTPConnection(port: daemon.port)
                await connection.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                let answer = RawAnswer(await connection.receive())
                if answer?.status == 200 { held.append(connection) } else { refusal = (answer, connection) }
            }
            #expect((3...4).contains(held.count))
            let (refused, connection) = try #require(refusal)
            let answer = try #require(refused)
            let (_, closed) = await connection.readUntilClosed(timeout: 10)
            #expect(answer.status == 503)
            #expect(answer.code == "overloaded")
            #expect(answer.headers["retry-after"] == "2")
            #expect(closed)

            // A connection closed makes room again.
            held.removeFirst()
            var answered = false
            for _ in 0..<50 where !answered {
                let again = try RawHTTPConnection(port: daemon.port)
                await again.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                answered = RawAnswer(await again.receive())?.status == 200
                if !answered { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(answered)
            _ = held
        }
    }

    @Test func pastTheInFlightBoundARequestGets503ButHealthAnswers() async throws {
        try await withDaemon(Self.configuration { $0.maxInFlightRequests = 2; $0.requestTimeout = .seconds(20) }) { daemon in
            // Two deliveries whose bodies never finish: two requests in flight.
            func stuckDelivery() async throws -> RawHTTPConnection {
                let connection = try RawHTTPConnection(port: daemon.port)
                await connection.send("POST /webhooks/calendly HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n{")
                return connection
            }
            var stuck = [try await stuckDelivery(), try await stuckDelivery()]
            var refused: ProblemDocument?
            // Until the two stuck requests are in flight: on a loaded machine that can take a
            // while, and one of them may reach the server after one of these GETs and be the one
            // refused; it is replaced.
            let deadline = ContinuousClock.now + .seconds(15)
            while refused == nil, ContinuousClock.now < deadline {
                let answer = try await daemon.call(.get, "/experts/ada")
                if answer.status == .serviceUnavailable {
                    refused = answer.problem
                    #expect(answer.headers[.retryAfter] == "1")
                    #expect(answer.logPosition != nil)
                } else {
                    for index in stuck.indices where stuck[index].hasDataToRead {
                        stuck[index] = try await stuckDelivery()
                    }
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            #expect(refused?.code == "overloaded")
            #expect(try await daemon.client.execute(uri: "/healthz", method: .get).status == .ok)
            // Once one finishes, requests are answered again.
            await stuck[0].send(String(repeating: " ", count: 99))
            _ = await stuck[0].receive()
            #expect(try await daemon.call(.get, "/experts/ada").status == .notFound)
        }
    }

    /// A client that asks for a lot and reads none of it: once the answer cannot be written,
    /// the write time-out closes the connection and frees its place.
    @Test func aClientThatNeverReadsIsClosedAfterTheWriteTimeOut() async throws {
        try await withDaemon(Self.configuration { $0.maxConnections = 2; $0.writeTimeout = .seconds(1) }) { daemon in
            // The API document 200 times over (some 14 MB), pipelined, into a 4 KiB receive buffer.
            let stuck = try RawHTTPConnection(port: daemon.port, receiveBufferBytes: 4096)
            await stuck.send(String(repeating: "GET /openapi.yaml HTTP/1.1\r\nHost: t\r\n\r\n", count: 200))
            let first = await stuck.peek(until: 12, timeout: 10)
            #expect(first.starts(with: Data("HTTP/1.1 200".utf8)), "\(String(decoding: first, as: UTF8.self))")
            // The other place goes to a connection of ours (or to the test client's own): past
            // them, a new connection is refused.
            var held: [RawHTTPConnection] = []
            var refused = false
            while !refused, held.count < 2 {
                let connection = try RawHTTPConnection(port: daemon.port)
                await connection.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                if RawAnswer(await connection.receive())?.status == 200 { held.append(connection) } else { refused = true }
            }
            #expect(refused, "the stuck connection holds a place")

            let start = ContinuousClock.now
            var answered = false
            while !answered, ContinuousClock.now - start < .seconds(60) {
                let again = try RawHTTPConnection(port: daemon.port)
                await again.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                answered = RawAnswer(await again.receive())?.status == 200
                if !answered { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(answered, "a connection that never reads keeps its place")
            _ = (stuck, held)
        }
    }

    @Test(arguments: ["GARBAGE\r\n\r\n", "GET /healthz HTTP/1.1\r\nHost: t\r\nBad Header\r\n\r\n"])
    func aMalformedRequestGetsAProblem(request: String) async throws {
        try await withDaemon { daemon in
            let connection = try RawHTTPConnection(port: daemon.port)
            await connection.send(request)
            let (bytes, closed) = await connection.readUntilClosed(timeout: 10)
            let answer = try #require(RawAnswer(bytes))
            #expect(answer.status == 400)
            #expect(answer.code == "malformed_request")
            #expect(closed)
        }
    }
}
