@testable import AvailServer
import AvailTesting
import Foundation
import HTTPTypes
import Testing

/// The settings page's event streams, over real sockets: bounded per expert, and ended when
/// the token that opened one is revoked.
@Suite struct EventStreamTests {
    @Test func pastItsBoundAnExpertsNextStreamIsRefusedButAnotherExpertGetsOne() async throws {
        var configuration = AvailServer.Configuration.testing()
        configuration.limits.maxStreamsPerExpert = 2
        try await withDaemon(configuration) { daemon in
            try await daemon.createFixtureExperts()
            let ada = try await daemon.issueToken(for: "ada", label: nil).token
            let grace = try await daemon.issueToken(for: "grace", label: nil).token
            var held: [RawEventStream] = []
            for _ in 0..<2 {
                let stream = try await RawEventStream.open(port: daemon.port, expert: "ada", token: ada)
                #expect(stream.isConnected, "\(stream.received)")
                held.append(stream)
            }
            let refused = try await RawEventStream.open(port: daemon.port, expert: "ada", token: ada)
            #expect(refused.status == 429, "\(refused.received)")
            #expect(refused.received.lowercased().contains("content-type: application/problem+json"))
            #expect(refused.received.contains(#""code":"too_many_streams""#))

            let other = try await RawEventStream.open(port: daemon.port, expert: "grace", token: grace)
            #expect(other.isConnected, "\(other.received)")
            _ = held
        }
    }

    @Test func revokingTheTokenOverHTTPEndsItsOpenStream() async throws {
        try await withDaemon { daemon in
            try await daemon.createFixtureExperts()
            let issued = try await daemon.issueToken(for: "ada", label: nil)
            let stream = try await RawEventStream.open(port: daemon.port, expert: "ada", token: issued.token)
            #expect(stream.isConnected, "\(stream.received)")
            #expect(try await daemon.call(.delete, "/experts/ada/tokens/\(issued.id)").status == .noContent)
            #expect(await stream.ends(within: 30), "the stream outlived its token")
        }
    }
}

/// The feed keeps only the newest news per listener; a heartbeat is news too, and must not
/// push out a change the page has not read yet.
@Suite struct ExpertChangeFeedTests {
    @Test func aHeartbeatNeverReplacesAnUnreadChange() async throws {
        let feed = ExpertChangeFeed()
        let stream = try #require(feed.changes(of: "ada", token: nil, limit: 1, heartbeat: .milliseconds(5)))
        feed.publish(["ada"], position: 7)
        // Many heartbeats come while nobody reads.
        try await Task.sleep(for: .milliseconds(200))
        var news = stream.makeAsyncIterator()
        #expect(await news.next() == .changed(position: 7))
        feed.finish()
    }
}
