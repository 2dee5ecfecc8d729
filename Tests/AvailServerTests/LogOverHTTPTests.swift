import AvailClient
import AvailCore
import AvailServer
import AvailTesting
import AvailWorkload
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
@Suite struct LogOverHTTPTests {
    @Test func twentyConcurrentCopiesGiveOneEntry() async throws {
        try await withDaemon { daemon in
            let body = builder.invitee(index: 42)
            let sender = daemon.sender
            let answers = try await withThrowingTaskGroup(of: WebhookSender.Answer.self) { group in
                for _ in 0..<20 { group.addTask { try await sender.send(body) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.filter { $0.status == 202 }.count == 1)
            #expect(answers.filter { $0.status == 200 }.count == 19)
            #expect(Set(answers.compactMap { $0.json?["position"] as? Int }) == [1])
            #expect(try await daemon.allEvents().count == 1)
        }
    }

    @Test func concurrentDeliveriesAreStoredGaplessAndByteExact() async throws {
        try await withDaemon { daemon in
            let bodies = (0..<300).map { builder.invitee(index: $0, seed: "gapless") }
            let sender = daemon.sender
            // 48 in flight at a time: all 300 at once would queue most of them in the client's
            // pool, where their deadline runs too (a loaded CI machine once ran one past it).
            let positions = try await withThrowingTaskGroup(of: Int.self) { group in
                var positions: [Int] = []
                for (index, body) in bodies.enumerated() {
                    if index >= 48, let position = try await group.next() { positions.append(position) }
                    group.addTask { try await sender.send(body).json?["position"] as? Int ?? -1 }
                }
                return try await group.reduce(into: positions) { $0.append($1) }
            }
            #expect(Set(positions) == Set(1...300))
            let events = try await daemon.allEvents()
            #expect(events.map(\.position) == Array(1...300))
            #expect(Set(events.map { Data($0.body.utf8) }) == Set(bodies))
            #expect(events.allSatisfy { $0.source == "calendly" && $0.type == "invitee.created" })
        }
    }

    @Test func eventsArePagedAfterAPosition() async throws {
        try await withDaemon { daemon in
            for index in 0..<5 { _ = try await daemon.sender.send(builder.invitee(index: index)) }
            let first = try await daemon.adminGet("/events?limit=2", as: EventPage.self)
            #expect(first.events.map(\.position) == [1, 2])
            #expect(first.nextAfter == 2)
            let rest = try await daemon.adminGet("/events?after=2&limit=10", as: EventPage.self)
            #expect(rest.events.map(\.position) == [3, 4, 5])
            let past = try await daemon.adminGet("/events?after=5", as: EventPage.self)
            #expect(past.events.isEmpty)
            #expect(past.nextAfter == 5)
        }
    }

    @Test(arguments: ["limit=0", "limit=1001", "limit=x", "after=-1", "after=1.5"])
    func badPagingIsA400NamingTheParameter(query: String) async throws {
        try await withDaemon { daemon in
            let response = try await daemon.client.execute(uri: "/events?\(query)", method: .get, headers: daemon.admin)
            #expect(response.status == .badRequest)
            let problem = try JSONDecoder().decode(ProblemDocument.self, from: Data(response.body.readableBytesView))
            #expect(problem.code == "invalid_parameter")
            #expect(problem.detail.hasPrefix(String(query.prefix(while: { $0 != "=" }))))
        }
    }

    @Test(arguments: ["/events", "/dead-letters"], [nil, "Bearer wrong", "Basic dGVzdA==", "Bearer "] as [String?])
    func adminEndpointsNeedTheAdminToken(path: String, authorization: String?) async throws {
        try await withDaemon { daemon in
            var headers = HTTPFields()
            if let authorization { headers[.authorization] = authorization }
            let response = try await daemon.client.execute(uri: path, method: .get, headers: headers)
            #expect(response.status == .unauthorized)
            #expect(response.headers[.contentType] == "application/problem+json")
            let problem = try JSONDecoder().decode(ProblemDocument.self, from: Data(response.body.readableBytesView))
            #expect(problem.code == "unauthorized")
        }
    }
}
