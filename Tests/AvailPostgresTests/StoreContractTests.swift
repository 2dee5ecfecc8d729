import AvailCore
import AvailStore
import AvailTesting
import Foundation
import Testing

@testable import AvailPostgres

extension Backend {
    static let sealer = try! TokenSealer(secretKey: String(repeating: "contract-test-key ", count: 3))

    /// The stores of a fresh database of this backend, as the daemon takes them.
    func withStores<T: Sendable>(_ body: @Sendable (Stores) async throws -> T) async throws -> T {
        switch self {
        case .sqlite:
            return try await body(try LogDatabase.open(path: LogDatabase.inMemory).stores(sealer: Self.sealer))
        case .postgres:
            return try await AvailPostgresDatabase.withDatabase(url: try TestPostgres.server().newDatabase(), logger: Self.logger) {
                try await body($0.stores(sealer: Self.sealer))
            }
        }
    }
}

/// What every store beside the log promises, asked of both backends: the same calls give the
/// same answers, refusals included.
@Suite struct StoreContractTests {
    let at = Timestamp(microseconds: 1_795_000_000_123_456)

    @Test(arguments: Backend.allCases)
    func deadLettersKeepTheRawBytesInOrder(backend: Backend) async throws {
        let at = self.at
        try await backend.withStores { stores in
            let body = Data([0x7B, 0x00, 0xFF, 0xFE, 0x7D])
            let first = try await stores.deadLetters.add(receivedAt: at, code: "unsupported_event", reason: "no", body: body, signature: "t=1,v1=aa")
            let second = try await stores.deadLetters.add(receivedAt: at, code: "invalid_body", reason: "why", body: Data("{}".utf8), signature: nil)
            #expect(second > first)
            let all = try await stores.deadLetters.list(after: 0, limit: 10)
            #expect(all == [
                DeadLetter(id: first, receivedAt: at, code: "unsupported_event", reason: "no", body: body, signature: "t=1,v1=aa"),
                DeadLetter(id: second, receivedAt: at, code: "invalid_body", reason: "why", body: Data("{}".utf8), signature: nil),
            ])
            #expect(try await stores.deadLetters.list(after: first, limit: 10).map(\.id) == [second])
            #expect(try await stores.deadLetters.list(after: 0, limit: 1).map(\.id) == [first])
        }
    }

    @Test(arguments: Backend.allCases)
    func tokensAndFeedsOpenOnlyWithTheirSecretAndStopWhenRevoked(backend: Backend) async throws {
        let at = self.at
        try await backend.withStores { stores in
            let (record, token) = try await stores.expertTokens.issue(expertID: "ada", label: "laptop", at: at)
            #expect(record == ExpertTokenRecord(id: token.id, expertID: "ada", label: "laptop", createdAt: at))
            #expect(try await stores.expertTokens.expert(for: token) == "ada")
            #expect(try await stores.expertTokens.expert(for: ExpertToken(id: token.id, secret: token.secret + "x")) == nil, "a wrong secret")
            #expect(try await stores.expertTokens.expert(for: ExpertToken.generate()) == nil, "an unknown id")
            let (second, _) = try await stores.expertTokens.issue(expertID: "ada", label: nil, at: at)
            #expect(try await stores.expertTokens.active(expertID: "ada").map(\.id) == [record.id, second.id].sorted())
            #expect(try await stores.expertTokens.revoke(expertID: "grace", tokenID: token.id, at: at) == false, "another expert's token")
            #expect(try await stores.expertTokens.revoke(expertID: "ada", tokenID: token.id, at: at))
            #expect(try await stores.expertTokens.revoke(expertID: "ada", tokenID: token.id, at: at) == false, "revoked once")
            #expect(try await stores.expertTokens.expert(for: token) == nil)
            #expect(try await stores.expertTokens.active(expertID: "ada") == [second])

            let (feed, feedToken) = try await stores.calendarFeeds.create(expertID: "ada", at: at)
            #expect(try await stores.calendarFeeds.expert(for: feedToken) == "ada")
            #expect(try await stores.calendarFeeds.expert(for: CalendarFeedToken(id: feedToken.id, secret: token.secret)) == nil)
            #expect(try await stores.calendarFeeds.active(expertID: "ada") == [feed])
            #expect(try await stores.calendarFeeds.revoke(expertID: "ada", feedID: feed.id, at: at))
            #expect(try await stores.calendarFeeds.expert(for: feedToken) == nil)
            #expect(try await stores.calendarFeeds.active(expertID: "ada").isEmpty)
        }
    }

    @Test(arguments: Backend.allCases)
    func calendlyCredentialsRotateOnlyFromTheVersionStored(backend: Backend) async throws {
        let at = self.at
        try await backend.withStores { stores in
            let credentials = stores.calendlyCredentials
            let first = CalendlyTokens(accessToken: "a1", refreshToken: "r1", expiresAt: Timestamp(microseconds: 1_795_007_200_000_000))
            let user = "https://api.calendly.com/users/ADA"
            #expect(try await credentials.load(expertID: "ada") == nil)
            try await credentials.store(expertID: "ada", userURI: user, tokens: first, at: at)
            #expect(try await credentials.load(expertID: "ada") == StoredCalendlyCredentials(
                expertID: "ada", userURI: user, tokens: first, version: 1, needsReconnect: false))
            #expect(try await credentials.expert(holding: user) == "ada")
            #expect(try await credentials.expert(holding: "https://api.calendly.com/users/OTHER") == nil)

            let second = CalendlyTokens(accessToken: "a2", refreshToken: "r2", expiresAt: first.expiresAt)
            #expect(try await credentials.rotate(expertID: "ada", userURI: user, from: 1, to: second, at: at))
            #expect(try await credentials.rotate(expertID: "ada", userURI: user, from: 1, to: first, at: at) == false, "a stale version")
            #expect(try await credentials.rotate(expertID: "ada", userURI: "https://api.calendly.com/users/X", from: 2, to: first, at: at) == false)
            #expect(try await credentials.load(expertID: "ada")?.tokens == second)
            #expect(try await credentials.markNeedsReconnect(expertID: "ada", version: 1, at: at) == false)
            #expect(try await credentials.markNeedsReconnect(expertID: "ada", version: 2, at: at))
            #expect(try await credentials.load(expertID: "ada")?.needsReconnect == true)

            // A reconnect replaces the tokens, clears the mark and raises the version.
            try await credentials.store(expertID: "ada", userURI: user, tokens: first, at: at)
            #expect(try await credentials.load(expertID: "ada") == StoredCalendlyCredentials(
                expertID: "ada", userURI: user, tokens: first, version: 3, needsReconnect: false))
            try await credentials.erase(expertID: "ada")
            #expect(try await credentials.load(expertID: "ada") == nil)
            #expect(try await credentials.expert(holding: user) == nil)
        }
    }

    @Test(arguments: Backend.allCases)
    func anOAuthStateWorksOnceEvenWhenTwoCallbacksRace(backend: Backend) async throws {
        try await backend.withStores { stores in
            let pending = PendingAuthorization(
                expertID: "ada", browserHash: Array(repeating: 7, count: 32), verifier: "verifier-0123456789",
                expiresAt: Timestamp(microseconds: (Timestamp.now().unixSeconds + 600) * 1_000_000))
            try await stores.oauthStates.create(state: "state-1", pending)
            #expect(try await stores.oauthStates.take(state: "state-2") == nil)
            let takes = try await withThrowingTaskGroup(of: PendingAuthorization?.self) { group in
                for _ in 0..<8 { group.addTask { try await stores.oauthStates.take(state: "state-1") } }
                return try await group.reduce(into: [PendingAuthorization?]()) { $0.append($1) }
            }
            #expect(takes.compactMap { $0 } == [pending], "exactly one of eight takes has it")
            #expect(try await stores.oauthStates.take(state: "state-1") == nil)
        }
    }

    @Test(arguments: Backend.allCases)
    func reconcileProgressGoesOnFromItsPageAndCompletes(backend: Backend) async throws {
        let at = self.at
        try await backend.withStores { stores in
            let progress = stores.reconcileProgress
            let window = Timestamp(microseconds: 1_790_000_000_000_000)
            try await progress.begin(expertID: "ada", userURI: "u-ada", windowStart: window, at: at)
            try await progress.advance(expertID: "ada", pageToken: "page-2", at: at)
            try await progress.failed(expertID: "ada", error: String(repeating: "e", count: 600), at: at)
            let underWay = try #require(try await progress.load(expertID: "ada"))
            #expect(underWay == ReconcileProgress(
                expertID: "ada", userURI: "u-ada", windowStart: window, pageToken: "page-2", startedAt: at, completedAt: nil,
                lastAppended: 0, lastError: String(repeating: "e", count: 500), updatedAt: at))
            try await progress.complete(expertID: "ada", appended: 4, at: at)
            try await progress.begin(expertID: "grace", userURI: "u-grace", windowStart: window, at: at)
            let all = try await progress.all()
            #expect(all.map(\.expertID) == ["ada", "grace"])
            #expect(all[0] == ReconcileProgress(
                expertID: "ada", userURI: "u-ada", windowStart: nil, pageToken: nil, startedAt: nil, completedAt: at,
                lastAppended: 4, lastError: nil, updatedAt: at))
            #expect(try await progress.load(expertID: "nobody") == nil)
        }
    }

    @Test(arguments: Backend.allCases)
    func subscriptionsAreKeptOnceAndReplacedWithTheirCheck(backend: Backend) async throws {
        let at = self.at
        try await backend.withStores { stores in
            let records = stores.subscriptions
            let organization = OrganizationSubscription(
                uri: "https://api.calendly.com/webhook_subscriptions/ONE", callbackURL: "https://availd.example/webhooks/calendly",
                scope: .organization, organization: "https://api.calendly.com/organizations/ORG", user: "ignored for organization scope",
                events: ["invitee.created", "invitee.canceled"], createdAt: at)
            try await records.add(organization)
            try await records.add(organization)
            var expected = organization
            expected.user = nil
            #expect(try await records.organizationSubscriptions() == [expected])

            try await records.record(SubscriptionCheck(subscriptionURI: organization.uri, expertID: nil, state: "disabled", checkedAt: at))
            try await records.record(SubscriptionCheck(subscriptionURI: "https://api.calendly.com/webhook_subscriptions/ADA", expertID: "ada", state: "active", checkedAt: at))
            let replacement = OrganizationSubscription(
                uri: "https://api.calendly.com/webhook_subscriptions/TWO", callbackURL: organization.callbackURL, scope: .user,
                organization: organization.organization, user: "https://api.calendly.com/users/ME", events: ["invitee.created"], createdAt: at)
            try await records.replace(organization.uri, with: replacement, state: "active", at: at)
            #expect(try await records.organizationSubscriptions() == [replacement])
            let checks = try await records.checks()
            #expect(Set(checks.keys) == [replacement.uri, "https://api.calendly.com/webhook_subscriptions/ADA"])
            #expect(checks[replacement.uri] == SubscriptionCheck(subscriptionURI: replacement.uri, expertID: nil, state: "active", checkedAt: at))
            #expect(checks["https://api.calendly.com/webhook_subscriptions/ADA"]?.expertID == "ada")
        }
    }
}
