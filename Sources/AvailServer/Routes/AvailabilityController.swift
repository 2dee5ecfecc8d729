import AvailCore
import AvailStore
import Foundation
import Hummingbird

/// `GET /experts/{id}/availability`: free slots, through the strategy of the expert's
/// integration. Public: slots carry no personal data.
struct AvailabilityController: Sendable {
    let readModels: any ReadModelQueries
    let service: AvailabilityService
    /// The longest range one request may ask for (Calendly's own limit).
    static let maximumRange: Int64 = 31 * 86_400 * 1_000_000

    func addRoutes(to router: Router<some RequestContext>) {
        router.get("/experts/:id/availability") { request, context in try await self.availability(request, context: context) }
    }

    func availability(_ request: Request, context: some RequestContext) async throws -> Response {
        let id = try ExpertID.validate(context.parameters.get("id") ?? "")
        let range = try Self.range(request.uri.queryParameters, now: .now())
        guard let expert = try await readModels.expert(id: id) else { throw Problem.notFound("no expert \(id)") }
        let eventType = request.uri.queryParameters["event_type"].map(String.init)
        if let eventType, eventType.count > 512 { throw Problem.invalidParameter("event_type", "is at most 512 characters") }
        try EventTypeChoice.check(eventType, for: expert, field: "event_type")
        let slots = try await service.strategy(for: expert.integrationType).slots(for: expert, eventType: eventType, in: range)
        // Written by hand: a month of 30-minute slots is ~1,500 objects, and JSONEncoder was
        // most of this endpoint's time.
        var bytes = Array(#"{"expert_id":"#.utf8)
        bytes.reserveCapacity(80 + slots.count * 70)
        let offered = expert.integrationType == .calendly ? expert.calendlyConfig?.eventType(eventType)?.uri : nil
        bytes += Array("\"\(id)\",\"integration_type\":\"\(expert.integrationType.rawValue)\",".utf8)
        bytes += Array("\"event_type\":".utf8) + (try offered.map { Array(try JSONEncoder.canonical().encode($0)) } ?? Array("null".utf8))
        bytes += Array(",\"slots\":[".utf8)
        for (offset, slot) in slots.enumerated() {
            if offset > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes += Array("{\"end_time\":\"\(slot.end)\",\"start_time\":\"\(slot.start)\"}".utf8)
        }
        bytes += Array("]}".utf8)
        return .json(bytes: bytes)
    }

    /// `start_time` and `end_time`: both required, the start not in the past (a minute of
    /// clock skew allowed), at most 31 days.
    static func range(_ parameters: Parameters, now: Timestamp) throws -> TimeRange {
        guard let start = try parameters.time("start_time") else { throw Problem.invalidParameter("start_time", "is required") }
        guard let end = try parameters.time("end_time") else { throw Problem.invalidParameter("end_time", "is required") }
        guard start.microseconds >= now.microseconds - 60_000_000 else {
            throw Problem(.badRequest, code: .invalidRange, detail: "start_time is in the past")
        }
        guard end > start else { throw Problem(.badRequest, code: .invalidRange, detail: "end_time must be after start_time") }
        guard end.microseconds - start.microseconds <= maximumRange else {
            throw Problem(.badRequest, code: .invalidRange, detail: "the range may span at most 31 days")
        }
        return TimeRange(start: start, end: end)
    }
}

/// `event_type` of an availability or booking request: one the expert offers.
enum EventTypeChoice {
    static func check(_ eventType: String?, for expert: ExpertProfile, field: String) throws {
        guard let eventType else { return }
        guard expert.integrationType == .calendly, let config = expert.calendlyConfig else {
            throw Problem.invalidParameter(field, "expert \(expert.id) offers no Calendly event types")
        }
        guard config.eventType(eventType) != nil else {
            throw Problem(
                .badRequest, code: .eventTypeNotOffered,
                detail: "expert \(expert.id) does not offer the event type \(eventType.prefix(200)); see GET /experts/\(expert.id)")
        }
    }
}
