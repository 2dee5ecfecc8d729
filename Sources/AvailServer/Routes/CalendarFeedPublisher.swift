import AvailCore
import AvailStore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /calendar/{feed_token}.ics`: an expert's appointments for calendar apps.
///
/// Public: calendar apps send no bearer header, so the secret in the URL is the credential,
/// and an unknown, malformed or revoked one is the same 404 as any unknown path. The body is a
/// pure function of the read models (see `CalendarFeed`), so its hash is a strong `ETag` and a
/// subscriber polling every few minutes mostly gets `304`.
struct CalendarFeedPublisher: Sendable {
    let feeds: any CalendarFeedStore
    let readModels: any ReadModelQueries

    /// How far back and ahead of now the feed reaches, by start time: a calendar app wants
    /// what is coming and the recent past, and the feed stays bounded however long an expert
    /// has been booked.
    static let pastDays = 90
    static let futureDays = 365
    /// Read in pages of this many; at most `maxEvents` are listed (the earliest in the window).
    static let pageSize = 500
    static let maxEvents = 5_000

    func addRoutes(to router: Router<AvailRequestContext>) {
        router.get("/calendar/:feed_file") { request, context in try await self.serve(request, context: context) }
    }

    func serve(_ request: Request, context: AvailRequestContext) async throws -> Response {
        let file = context.parameters.get("feed_file") ?? ""
        guard file.hasSuffix(".ics"), let token = CalendarFeedToken(urlForm: String(file.dropLast(4))),
              let expertID = try await feeds.expert(for: token),
              let expert = try await readModels.expert(id: expertID)
        else { throw Problem.notFound("no such calendar feed") }

        let body = try await calendar(for: expert, now: .now()).render()
        let etag = "\"" + Hex.encode(Array(SHA256.hash(data: body)).prefix(16)) + "\""
        var headers: HTTPFields = [.eTag: etag, .cacheControl: "private, max-age=60"]
        if Self.matches(ifNoneMatch: request.headers[values: .ifNoneMatch], etag: etag) {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = "text/calendar; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// The feed's appointments in the window, paged through the read models, with where each
    /// one's reschedule chain began.
    func calendar(for expert: ExpertProfile, now: Timestamp) async throws -> CalendarFeed {
        let day: Int64 = 86_400_000_000
        var query = AppointmentQuery(
            expertID: expert.id,
            from: Timestamp(microseconds: now.microseconds - Int64(Self.pastDays) * day),
            to: Timestamp(microseconds: now.microseconds + Int64(Self.futureDays) * day),
            limit: Self.pageSize)
        var appointments: [Appointment] = []
        while appointments.count < Self.maxEvents {
            let page = try await readModels.appointments(query)
            appointments += page.appointments.filter(CalendarFeed.isListed)
            guard let next = page.next else { break }
            query.after = next
        }
        appointments = Array(appointments.prefix(Self.maxEvents))
        let origins = try await readModels.rescheduleOrigins(of: appointments.filter { $0.rescheduledFrom != nil }.map(\.id))
        return CalendarFeed(calendarName: "\(expert.name) (availd)", appointments: appointments, origins: origins)
    }

    /// RFC 9110 §13.1.2: `*`, or any listed tag equal to `etag` by the weak comparison.
    static func matches(ifNoneMatch values: [String], etag: String) -> Bool {
        let tags = values.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        let opaque = etag.hasPrefix("W/") ? String(etag.dropFirst(2)) : etag
        return tags.contains { $0 == "*" || ($0.hasPrefix("W/") ? String($0.dropFirst(2)) : $0) == opaque }
    }
}
