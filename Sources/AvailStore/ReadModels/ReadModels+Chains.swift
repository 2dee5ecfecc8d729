import AvailCore
import GRDB

extension ReadModels {
    /// The longest reschedule chain followed back; a longer one (or a cycle, which the fold
    /// never makes but a hand-edited database could) is cut there.
    public static let maxChainHops = 1_000

    /// Where each of `ids`' reschedule chains began, following `rescheduled_from` back to the
    /// first appointment (which may be long past, outside any page the caller read), and how
    /// many reschedules it took. One read, so every answer comes from the same snapshot.
    public func rescheduleOrigins(of ids: [String]) async throws -> [String: CalendarFeed.Origin] {
        guard !ids.isEmpty else { return [:] }
        return try await database.read { db in
            var origins: [String: CalendarFeed.Origin] = [:]
            let statement = try db.cachedStatement(sql: """
                WITH RECURSIVE chain(id, previous, hops) AS (
                    SELECT id, rescheduled_from, 0 FROM appointments WHERE id = ?
                    UNION ALL
                    SELECT a.id, a.rescheduled_from, chain.hops + 1
                    FROM appointments a JOIN chain ON a.id = chain.previous
                    WHERE chain.hops < ?
                )
                SELECT id, previous, hops FROM chain ORDER BY hops DESC LIMIT 1
                """)
            for id in ids {
                guard let row = try Row.fetchOne(statement, arguments: [id, Self.maxChainHops]) else { continue }
                // A `rescheduled_from` the read models hold no row for (a Calendly reschedule
                // whose old invitee was never described) still names the chain's first: ids
                // are made from invitee URIs, so it is the id that row will have.
                let hops: Int = row["hops"]
                let previous: String? = row["previous"]
                if let previous {
                    origins[id] = CalendarFeed.Origin(firstID: previous, hops: hops + 1)
                } else {
                    origins[id] = CalendarFeed.Origin(firstID: row["id"], hops: hops)
                }
            }
            return origins
        }
    }
}
