import Foundation
import NIOHTTP1

/// One page of a Calendly list, its items as the JSON Calendly sent (each re-serialised with
/// sorted keys), and the token of the next page.
public struct CalendlyRawPage: Sendable {
    public var items: [Data]
    public var nextPageToken: String?
}

extension CalendlyClient {
    /// One page of `GET /scheduled_events?user=…`: both statuses, by start time ascending,
    /// those starting at `minStartTime` or later.
    public func scheduledEvents(user: String, minStartTime: String?, pageToken: String?, count: Int = 100) async throws(CalendlyError)
        -> CalendlyRawPage
    {
        var query = ["user": user, "count": String(count), "sort": "start_time:asc"]
        if let minStartTime { query["min_start_time"] = minStartTime }
        if let pageToken { query["page_token"] = pageToken }
        return try await rawPage("/scheduled_events", query: query)
    }

    /// One page of `GET /scheduled_events/{uuid}/invitees` (both statuses), by the event's URI.
    public func invitees(ofScheduledEvent uri: String, pageToken: String?, count: Int = 100) async throws(CalendlyError)
        -> CalendlyRawPage
    {
        let path = try CalendlyURI.path(of: uri, shapes: [CalendlyURI.scheduledEventShape]) + "/invitees"
        var query = ["count": String(count)]
        if let pageToken { query["page_token"] = pageToken }
        return try await rawPage(path, query: query)
    }

    private func rawPage(_ path: String, query: [String: String]) async throws(CalendlyError) -> CalendlyRawPage {
        var components = URLComponents(string: baseURL + path)
        components?.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        guard let url = components?.string else { throw .unexpected("bad URL for \(path)") }
        let (status, body) = try await send(method: .GET, url: url, body: nil)
        guard status == 200 else { throw Self.refusal(status, body) }
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
            let collection = object["collection"] as? [Any]
        else { throw .unexpected("Calendly answered \(path) without a collection") }
        var items: [Data] = []
        items.reserveCapacity(collection.count)
        for item in collection {
            guard item is [String: Any],
                let data = try? JSONSerialization.data(withJSONObject: item, options: [.sortedKeys, .withoutEscapingSlashes])
            else { throw .unexpected("Calendly answered \(path) with a collection item that is not an object") }
            items.append(data)
        }
        let pagination = object["pagination"] as? [String: Any]
        let next = (pagination?["next_page_token"] as? String).flatMap { $0.isEmpty ? nil : $0 }
        return CalendlyRawPage(items: items, nextPageToken: next)
    }
}
