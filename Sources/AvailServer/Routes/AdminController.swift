import AvailCore
import AvailStore
import Foundation
import HTTPTypes
import Hummingbird

/// Admin-only reads of the log and the dead letters.
struct AdminController: Sendable {
    let log: any EventStore
    let deadLetters: any DeadLetterStore
    let readModels: any ReadModelQueries

    func addRoutes(to group: RouterGroup<some RequestContext>) {
        group.get("/events") { request, _ in try await self.events(request) }
        group.get("/dead-letters") { request, _ in try await self.deadLetters(request) }
        group.get("/parked") { request, _ in try await self.parked(request) }
    }

    func events(_ request: Request) async throws -> Response {
        let after = try request.uri.queryParameters.integer("after", default: 0, in: 0...Int64.max)
        let limit = try request.uri.queryParameters.integer("limit", default: 100, in: 1...1000)
        let events = try await log.events(after: after, limit: Int(limit))
        return try .json(EventPage(events: events.map(EventItem.init), nextAfter: events.last?.position ?? after))
    }

    /// Events the projector could not apply, with the reason; they stay in the log.
    func parked(_ request: Request) async throws -> Response {
        let after = try request.uri.queryParameters.integer("after", default: 0, in: 0...Int64.max)
        let limit = try request.uri.queryParameters.integer("limit", default: 100, in: 1...1000)
        let parked = try await readModels.parked(after: after, limit: Int(limit))
        return try .json(ParkedList(
            parked: parked.map { .init(position: $0.position, type: $0.type, reason: $0.reason, recordedAt: $0.recordedAt) },
            nextAfter: parked.last?.position ?? after))
    }

    func deadLetters(_ request: Request) async throws -> Response {
        let after = try request.uri.queryParameters.integer("after", default: 0, in: 0...Int64.max)
        let limit = try request.uri.queryParameters.integer("limit", default: 100, in: 1...1000)
        let letters = try await deadLetters.list(after: after, limit: Int(limit))
        return try .json(DeadLetterPage(deadLetters: letters.map(DeadLetterItem.init), nextAfter: letters.last?.id ?? after))
    }
}

extension Parameters {
    /// The integer query parameter `name`, `fallback` when absent; a 400 naming it otherwise.
    func integer(_ name: String, default fallback: Int64, in range: ClosedRange<Int64>) throws -> Int64 {
        guard let text = self[name[...]] else { return fallback }
        guard let value = Int64(text), range.contains(value) else {
            throw Problem.invalidParameter(name, "must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }
}
