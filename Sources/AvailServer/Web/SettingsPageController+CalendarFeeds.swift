import AvailCore
import AvailStore

extension SettingsPageController {
    /// One of the expert's calendar feeds on the page: when it was made, never its URL (that
    /// was shown once, when it was created, and availd keeps only its hash).
    struct CalendarFeedRow {
        var id: String
        var createdAt: String
    }

    /// Mustache sees stored properties only, so the emptiness is stored too.
    struct CalendarFeedsView {
        let feeds: [CalendarFeedRow]
        let hasFeeds: Bool

        init(feeds: [CalendarFeedRow]) {
            self.feeds = feeds
            self.hasFeeds = !feeds.isEmpty
        }
    }

    func calendarFeedsView(_ expert: ExpertProfile, format: (Timestamp) -> String) async throws -> CalendarFeedsView {
        CalendarFeedsView(feeds: try await calendarFeeds.active(expertID: expert.id).map {
            CalendarFeedRow(id: $0.id, createdAt: format($0.createdAt))
        })
    }
}
