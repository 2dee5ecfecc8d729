import AvailCore
import AvailServer
import AvailTesting
import AvailWorkload
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

/// A webhook receiver on loopback: records every body and signature header it gets, and answers
/// by path: `/gone` 410, `/moved` 302, `/broken` 500, anything else 200.
final class TestReceiver: Sendable {
    struct Delivery: Sendable {
        var path: String
        var body: Data
        var signature: String?

        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    }

    private let received = Mutex<[Delivery]>([])

    func deliveries(_ path: String) -> [Delivery] { received.withLock { $0.filter { $0.path == path } } }

    static func run(_ body: @Sendable (_ receiver: TestReceiver, _ baseURL: String) async throws -> Void) async throws {
        let receiver = TestReceiver()
        let router = Router()
        router.post("/**") { request, context -> Response in
            let bytes = try await request.body.collect(upTo: 1 << 20)
            let path = request.uri.path
            receiver.received.withLock {
                $0.append(Delivery(path: path, body: Data(bytes.readableBytesView), signature: request.headers[HTTPField.Name("Calendly-Webhook-Signature")!]))
            }
            switch path {
            case "/gone": return Response(status: .gone)
            case "/moved": return Response(status: .found, headers: [.location: "/elsewhere"])
            case "/broken": return Response(status: .internalServerError)
            default: return Response(status: .ok)
            }
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in try await body(receiver, "http://127.0.0.1:\(client.port!)") }
    }
}

/// Calls the stand-in as a client of Calendly's API would.
struct StandInAPI {
    let control: any TestClientProtocol

    static let admin = "calendly-token-admin", ada = "calendly-token-ada", grace = "calendly-token-grace"
    static let katherine = "calendly-token-katherine"
    static let marketplace = OAuthTestClient.marketplace, orbits = OAuthTestClient.orbits

    struct Answer {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var json: [String: Any]

        var resource: [String: Any] { json["resource"] as? [String: Any] ?? [:] }
        var collection: [[String: Any]] { json["collection"] as? [[String: Any]] ?? [] }
        var pagination: [String: Any] { json["pagination"] as? [String: Any] ?? [:] }
        var detailParameters: [String] { (json["details"] as? [[String: Any]] ?? []).compactMap { $0["parameter"] as? String } }
    }

    func call(_ method: HTTPRequest.Method, _ path: String, token: String = admin, json: String? = nil) async throws -> Answer {
        var headers: HTTPFields = [.authorization: "Bearer \(token)"]
        if json != nil { headers[.contentType] = "application/json" }
        let response = try await control.execute(uri: path, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
        let value = (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any] ?? [:]
        return Answer(status: response.status, headers: response.headers, json: value)
    }

    func sim(_ path: String, _ json: String) async throws {
        let response = try await control.execute(uri: path, method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: json))
        #expect(response.status == .noContent, "\(path)")
    }

    /// A subscription's body.
    static func subscription(
        url: String, events: [String] = ["invitee.created", "invitee.canceled"], organization: String = marketplace, scope: String,
        user: String? = nil, signingKey: String? = nil
    ) -> String {
        var object: [String: Any] = ["url": url, "events": events, "organization": organization, "scope": scope]
        if let user { object["user"] = user }
        if let signingKey { object["signing_key"] = signingKey }
        return String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    func subscribe(_ body: String, token: String = admin) async throws -> Answer {
        try await call(.post, "/webhook_subscriptions", token: token, json: body)
    }

    /// The `index`-th free slot of `eventType` on the Monday the tests use (`day` days later).
    func freeSlot(_ eventType: String, index: Int = 0, token: String = admin, day: Int = 0) async throws -> String {
        let monday = AvailabilityOverHTTPTests.monday.adding(days: day)
        let times = try await call(
            .get, "/event_type_available_times?event_type=\(eventType)&start_time=\(monday)T00:00:00Z&end_time=\(monday.adding(days: 1))T00:00:00Z",
            token: token)
        return try #require(times.collection.dropFirst(index).first?["start_time"] as? String)
    }

    /// Books the `index`-th free slot of `eventType` on the Monday the tests use.
    @discardableResult
    func book(_ eventType: String, index: Int = 0, token: String = admin, day: Int = 0) async throws -> Answer {
        let slot = try await freeSlot(eventType, index: index, token: token, day: day)
        let booked = try await call(
            .post, "/invitees", token: token,
            json: #"{"event_type":"\#(eventType)","start_time":"\#(slot)","invitee":{"name":"Kofi Mensah","email":"kofi\#(index)@example.com"}}"#)
        #expect(booked.status == .created)
        return booked
    }

    /// `POST /_sim/reschedule`: the invitee moves to `start` through its `reschedule_url`.
    func reschedule(_ invitee: String, to start: String) async throws -> Answer {
        try await call(.post, "/_sim/reschedule", json: #"{"invitee":"\#(invitee)","start_time":"\#(start)"}"#)
    }

    /// `uri`'s path on the stand-in.
    static func path(_ uri: String?) throws -> String {
        String(try #require(uri).dropFirst("https://api.calendly.com".count))
    }

    func delivered() async throws -> [String: [String: Int]] {
        let response = try await control.execute(uri: "/_sim/webhooks/delivered", method: .get)
        return (try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: [String: Int]] ?? [:]
    }
}

@Suite struct StandInWebhookTests {
    static let ada = Corpus.experts[0], grace = Corpus.experts[1]

    func verify(_ delivery: TestReceiver.Delivery, key: String) -> Bool {
        (try? WebhookSignature.verify(header: delivery.signature, body: delivery.body, keys: [key], tolerance: 180, now: Timestamp.now().unixSeconds)) != nil
    }

    @Test func aSubscriptionIsCreatedListedReadAndDeleted() async throws {
        try await withCalendly { _, control in
            let api = StandInAPI(control: control)
            let created = try await api.subscribe(
                StandInAPI.subscription(url: "https://hooks.example/ada", scope: "user", user: Self.ada.userURI, signingKey: "k"), token: StandInAPI.ada)
            #expect(created.status == .created)
            let resource = created.resource
            #expect(resource["state"] as? String == "active")
            #expect(resource["retry_started_at"] is NSNull)
            #expect(resource["user"] as? String == Self.ada.userURI)
            #expect(resource["group"] is NSNull)
            #expect(resource["creator"] as? String == Self.ada.userURI)
            #expect(resource["signing_key"] == nil)
            let org = try await api.subscribe(StandInAPI.subscription(url: "https://hooks.example/org", scope: "organization"))
            #expect(org.status == .created)
            #expect(org.resource["user"] is NSNull)

            // Listing needs organization and scope (and user for the user scope).
            let bare = try await api.call(.get, "/webhook_subscriptions")
            #expect(bare.status == .badRequest)
            #expect(Set(bare.detailParameters) == ["organization", "scope"])
            #expect(try await api.call(.get, "/webhook_subscriptions?organization=\(StandInAPI.marketplace)&scope=user").detailParameters == ["user"])
            let mine = try await api.call(.get, "/webhook_subscriptions?organization=\(StandInAPI.marketplace)&scope=user&user=\(Self.ada.userURI)", token: StandInAPI.ada)
            #expect(mine.collection.map { $0["callback_url"] as? String } == ["https://hooks.example/ada"])
            #expect(mine.pagination["next_page_token"] is NSNull)
            // Only what the token's user may see: Ada neither the organization's nor Grace's.
            #expect(try await api.call(.get, "/webhook_subscriptions?organization=\(StandInAPI.marketplace)&scope=organization", token: StandInAPI.ada).status == .forbidden)
            #expect(try await api.call(.get, "/webhook_subscriptions?organization=\(StandInAPI.marketplace)&scope=user&user=\(Self.ada.userURI)", token: StandInAPI.grace).status == .forbidden)
            #expect(try await api.call(.get, "/webhook_subscriptions?organization=\(StandInAPI.marketplace)&scope=organization&count=0").status == .badRequest)
            let orgs = try await api.call(.get, "/webhook_subscriptions?organization=\(StandInAPI.marketplace)&scope=organization&count=1")
            #expect(orgs.collection.count == 1)

            let path = String(try #require(resource["uri"] as? String).dropFirst("https://api.calendly.com".count))
            #expect(try await api.call(.get, path, token: StandInAPI.ada).resource["uri"] as? String == resource["uri"] as? String)
            #expect(try await api.call(.get, path, token: StandInAPI.grace).status == .notFound)
            #expect(try await api.call(.get, path, token: StandInAPI.katherine).status == .notFound)
            #expect(try await api.call(.delete, path, token: StandInAPI.grace).status == .notFound)
            #expect(try await api.call(.delete, path, token: StandInAPI.ada).status == .noContent)
            #expect(try await api.call(.get, path, token: StandInAPI.ada).status == .notFound)
        }
    }

    @Test func creationIsValidatedAndPermitted() async throws {
        try await withCalendly { _, control in
            let api = StandInAPI(control: control)
            let empty = try await api.subscribe("{}")
            #expect(empty.status == .badRequest)
            #expect(empty.json["title"] as? String == "Invalid Argument")
            #expect(Set(empty.detailParameters) == ["url", "events", "organization", "scope"])
            #expect(try await api.subscribe(StandInAPI.subscription(url: "not a url", scope: "organization")).detailParameters == ["url"])
            #expect(try await api.subscribe(StandInAPI.subscription(url: "https://h.example/", events: ["invitee.rescheduled"], scope: "organization")).detailParameters == ["events"])
            #expect(try await api.subscribe(StandInAPI.subscription(url: "https://h.example/", scope: "user")).detailParameters == ["user"])
            #expect(try await api.subscribe(StandInAPI.subscription(url: "https://h.example/", scope: "team")).detailParameters == ["scope"])
            // Another user's token, even an owner's, cannot create a user-scoped one.
            let forAda = StandInAPI.subscription(url: "https://h.example/", scope: "user", user: Self.ada.userURI)
            let denied = try await api.subscribe(forAda, token: StandInAPI.grace)
            #expect(denied.status == .forbidden)
            #expect(denied.json["title"] as? String == "Permission Denied")
            #expect(try await api.subscribe(forAda, token: StandInAPI.admin).status == .forbidden)
            #expect(try await api.subscribe(StandInAPI.subscription(url: "https://h.example/", scope: "organization"), token: StandInAPI.ada).status == .forbidden)
            #expect(try await api.subscribe(StandInAPI.subscription(url: "https://h.example/", scope: "organization"), token: StandInAPI.katherine).status == .forbidden)

            // The seed has no groups: a group scope is refused, for want of the group.
            let group = #"{"url":"https://h.example/","events":["invitee.created"],"organization":"\#(StandInAPI.marketplace)","scope":"group","group":"https://api.calendly.com/groups/none"}"#
            #expect(try await api.subscribe(group).status == .notFound)
            #expect(try await api.subscribe(group, token: StandInAPI.ada).status == .forbidden)

            // The same URL for the same scope again: 409.
            #expect(try await api.subscribe(forAda, token: StandInAPI.ada).status == .created)
            let again = try await api.subscribe(forAda, token: StandInAPI.ada)
            #expect(again.status == .conflict)
            #expect(again.json["title"] as? String == "Already Exists")
            #expect(again.json["message"] as? String == "Hook with this url already exists")
        }
    }

    @Test func deliveriesGoToEverySubscriptionThatCoversTheEventSignedWithItsKey() async throws {
        try await TestReceiver.run { receiver, hooks in
            try await withCalendly { _, control in
                let api = StandInAPI(control: control)
                let org = try await api.subscribe(StandInAPI.subscription(url: "\(hooks)/org", scope: "organization", signingKey: "org-key"))
                #expect(org.status == .created)
                #expect(try await api.subscribe(StandInAPI.subscription(url: "\(hooks)/ada", scope: "user", user: Self.ada.userURI), token: StandInAPI.ada).status == .created)
                #expect(try await api.subscribe(StandInAPI.subscription(url: "\(hooks)/ada-cancels", events: ["invitee.canceled"], scope: "user", user: Self.ada.userURI, signingKey: "c"), token: StandInAPI.ada).status == .created)
                #expect(try await api.subscribe(StandInAPI.subscription(url: "\(hooks)/orbits", organization: StandInAPI.orbits, scope: "organization", signingKey: "o"), token: StandInAPI.katherine).status == .created)

                let booked = try await api.book(Self.ada.eventTypeURI)
                try await api.book(Self.grace.eventTypeURI)
                let event = try #require(booked.resource["event"] as? String)
                #expect(try await api.call(.post, "\(event.dropFirst("https://api.calendly.com".count))/cancellation", json: "{}").status == .created)

                let toOrg = receiver.deliveries("/org")
                #expect(toOrg.map { $0.json["event"] as? String } == ["invitee.created", "invitee.created", "invitee.canceled"])
                #expect(toOrg.allSatisfy { verify($0, key: "org-key") })
                #expect(toOrg.allSatisfy { $0.json["created_by"] as? String == "https://api.calendly.com/users/ffd03ffd-c9f2-476c-aa8c-8a8e6237057a" })
                // Without a signing key, a seeded token's subscription is signed with its organization's key.
                let toAda = receiver.deliveries("/ada")
                #expect(toAda.map { $0.json["event"] as? String } == ["invitee.created", "invitee.canceled"])
                #expect(toAda.allSatisfy { verify($0, key: "standin-webhook-key-561509c9-96dd-4445-989c-8a74f3088068") })
                #expect(!toAda.contains { verify($0, key: "org-key") })
                #expect(toAda.allSatisfy { $0.json["created_by"] as? String == Self.ada.userURI })
                #expect((toAda.first?.json["payload"] as? [String: Any])?["scheduled_event"] is [String: Any])
                #expect(receiver.deliveries("/ada-cancels").map { $0.json["event"] as? String } == ["invitee.canceled"])
                #expect(receiver.deliveries("/orbits").isEmpty)
                #expect(try await api.delivered()["\(hooks)/org"] == ["sent": 3, "failed": 0, "dropped": 0])
            }
        }
    }

    @Test func anOAuthAppsSubscriptionIsSignedWithTheAppsKey() async throws {
        try await TestReceiver.run { receiver, hooks in
            try await withCalendly { _, control in
                let api = StandInAPI(control: control)
                try await api.sim(
                    "/_sim/oauth/apps",
                    #"{"client_id":"\#(OAuthTestClient.clientID)","client_secret":"\#(OAuthTestClient.clientSecret)","redirect_uris":["\#(OAuthTestClient.redirectURI)"],"webhook_signing_key":"app-key"}"#)
                let oauth = OAuthTestClient(control: control)
                let code = try #require(try await oauth.decide(user: "ada-lovelace").redirectQuery["code"])
                let access = try #require(try await oauth.exchange(code).json["access_token"] as? String)
                #expect(try await api.subscribe(StandInAPI.subscription(url: "\(hooks)/app", scope: "user", user: Self.ada.userURI), token: access).status == .created)
                #expect(try await api.subscribe(StandInAPI.subscription(url: "\(hooks)/app-own", scope: "user", user: Self.ada.userURI, signingKey: "own"), token: access).status == .created)
                try await api.book(Self.ada.eventTypeURI)
                let delivery = try #require(receiver.deliveries("/app").first)
                #expect(verify(delivery, key: "app-key"))
                #expect(verify(try #require(receiver.deliveries("/app-own").first), key: "own"))
            }
        }
    }

    @Test func failingDeliveriesDisableTheSubscriptionWhichStillBlocksItsURL() async throws {
        try await TestReceiver.run { receiver, hooks in
            try await withCalendly { _, control in
                let api = StandInAPI(control: control)
                let body = StandInAPI.subscription(url: "\(hooks)/failing", scope: "organization", signingKey: "k")
                let created = try await api.subscribe(body)
                let path = String(try #require(created.resource["uri"] as? String).dropFirst("https://api.calendly.com".count))
                try await api.sim("/_sim/webhooks/fail", #"{"url":"\#(hooks)/failing","after":2}"#)
                try await api.book(Self.grace.eventTypeURI, index: 0)
                let retrying = try await api.call(.get, path).resource
                #expect(retrying["state"] as? String == "active")
                let firstFailure = try #require(retrying["retry_started_at"] as? String)
                try await api.book(Self.grace.eventTypeURI, index: 1)
                let disabled = try await api.call(.get, path).resource
                #expect(disabled["state"] as? String == "disabled")
                #expect(disabled["retry_started_at"] as? String == firstFailure)
                try await api.book(Self.grace.eventTypeURI, index: 2)
                #expect(try await api.delivered()["\(hooks)/failing"] == ["sent": 0, "failed": 2, "dropped": 0])
                #expect(receiver.deliveries("/failing").isEmpty)
                // Disabled, it still holds its URL: a replacement needs a new one.
                #expect(try await api.subscribe(body).status == .conflict)
            }
        }
    }

    @Test func aGoneReceiverDeletesTheSubscriptionAndARedirectIsAFailure() async throws {
        try await TestReceiver.run { receiver, hooks in
            try await withCalendly { _, control in
                let api = StandInAPI(control: control)
                let gone = try await api.subscribe(StandInAPI.subscription(url: "\(hooks)/gone", scope: "organization", signingKey: "k"))
                let moved = try await api.subscribe(StandInAPI.subscription(url: "\(hooks)/moved", scope: "organization", signingKey: "k"))
                try await api.book(Self.grace.eventTypeURI)
                let gonePath = String(try #require(gone.resource["uri"] as? String).dropFirst("https://api.calendly.com".count))
                let movedPath = String(try #require(moved.resource["uri"] as? String).dropFirst("https://api.calendly.com".count))
                #expect(try await api.call(.get, gonePath).status == .notFound)
                #expect(try await api.call(.get, movedPath).resource["retry_started_at"] is String)
                #expect(receiver.deliveries("/moved").count == 1)
                #expect(receiver.deliveries("/elsewhere").isEmpty)
                #expect(try await api.delivered()["\(hooks)/moved"]?["failed"] == 1)
                try await api.book(Self.grace.eventTypeURI, index: 1)
                #expect(receiver.deliveries("/gone").count == 1)
            }
        }
    }

    @Test func dropsAreCountedAndSilent() async throws {
        try await TestReceiver.run { receiver, hooks in
            try await withCalendly { _, control in
                let api = StandInAPI(control: control)
                #expect(try await api.subscribe(StandInAPI.subscription(url: "\(hooks)/lossy", scope: "organization", signingKey: "k")).status == .created)
                try await api.sim("/_sim/webhooks/drop", #"{"fraction":1,"seed":1}"#)
                try await api.book(Self.grace.eventTypeURI, index: 0)
                try await api.sim("/_sim/webhooks/drop", #"{"fraction":0.3,"seed":1}"#)
                for _ in 1...6 { try await api.book(Self.grace.eventTypeURI) }
                let counts = try #require(try await api.delivered()["\(hooks)/lossy"])
                #expect(counts["dropped"]! >= 1)
                #expect(counts["sent"]! + counts["dropped"]! == 7)
                #expect(receiver.deliveries("/lossy").count == counts["sent"])
            }
        }
    }

    @Test func aRescheduleSendsTheCanceledAndTheCreatedHalvesToEverySubscriptionAndDropsApply() async throws {
        try await TestReceiver.run { receiver, hooks in
            try await withCalendly { _, control in
                let api = StandInAPI(control: control)
                #expect(try await api.subscribe(StandInAPI.subscription(url: "\(hooks)/org", scope: "organization", signingKey: "org-key")).status == .created)
                #expect(try await api.subscribe(StandInAPI.subscription(url: "\(hooks)/grace", scope: "user", user: Self.grace.userURI, signingKey: "g"), token: StandInAPI.grace).status == .created)
                let old = try #require(try await api.book(Self.grace.eventTypeURI).resource["uri"] as? String)
                let moved = try await api.reschedule(old, to: try await api.freeSlot(Self.grace.eventTypeURI, index: 3))
                #expect(moved.status == .created)
                let new = try #require(moved.json["new_invitee"] as? String)
                let newEvent = try #require(moved.json["new_event"] as? String)

                for (path, key) in [("/org", "org-key"), ("/grace", "g")] {
                    let deliveries = receiver.deliveries(path)
                    #expect(deliveries.count == 3, "\(path)")
                    #expect(deliveries.allSatisfy { verify($0, key: key) }, "\(path)")
                    // The two halves, in whichever order.
                    let pair = deliveries.dropFirst()
                    let canceled = try #require(pair.first { $0.json["event"] as? String == "invitee.canceled" }?.json["payload"] as? [String: Any])
                    let created = try #require(pair.first { $0.json["event"] as? String == "invitee.created" }?.json["payload"] as? [String: Any])
                    #expect(canceled["uri"] as? String == old)
                    #expect(canceled["status"] as? String == "canceled")
                    #expect(canceled["rescheduled"] as? Bool == true)
                    #expect(canceled["new_invitee"] as? String == new)
                    #expect(canceled["old_invitee"] is NSNull)
                    #expect((canceled["cancellation"] as? [String: Any])?["canceler_type"] as? String == "invitee")
                    #expect((canceled["scheduled_event"] as? [String: Any])?["status"] as? String == "canceled")
                    #expect(created["uri"] as? String == new)
                    #expect(created["status"] as? String == "active")
                    #expect(created["rescheduled"] as? Bool == false)
                    #expect(created["old_invitee"] as? String == old)
                    #expect(created["new_invitee"] is NSNull)
                    #expect(created["event"] as? String == newEvent)
                    #expect((created["scheduled_event"] as? [String: Any])?["uri"] as? String == newEvent)
                }

                // The drop switch applies to a reschedule's deliveries as to any other.
                try await api.sim("/_sim/webhooks/drop", #"{"fraction":1,"seed":1}"#)
                #expect(try await api.reschedule(new, to: try await api.freeSlot(Self.grace.eventTypeURI, index: 5)).status == .created)
                #expect(receiver.deliveries("/org").count == 3)
                #expect(try await api.delivered()["\(hooks)/org"] == ["sent": 3, "failed": 0, "dropped": 2])
            }
        }
    }

    /// The whole way: Calendly's two deliveries of an invitee's reschedule reach availd through
    /// its subscription, and the projector links the old appointment to the new one.
    @Test func anInviteesRescheduleEndsAsARescheduledAppointmentInAvaild() async throws {
        try await withCalendly { baseURL, control in
            try await withDaemon(CalendlyConnectTests().configuration(baseURL)) { daemon in
                let api = StandInAPI(control: control)
                _ = try await daemon.connectGraceToCalendly()
                let subscription = StandInAPI.subscription(
                    url: daemon.baseURL + "/webhooks/calendly", scope: "organization", signingKey: daemon.configuration.signingKeys[0])
                #expect(try await api.subscribe(subscription).status == .created)
                let old = try #require(try await api.book(Self.grace.eventTypeURI).resource["uri"] as? String)
                let start = try await api.freeSlot(Self.grace.eventTypeURI, index: 2)
                let new = try #require(try await api.reschedule(old, to: start).json["new_invitee"] as? String)
                #expect(try await api.delivered()["\(daemon.baseURL)/webhooks/calendly"] == ["sent": 3, "failed": 0, "dropped": 0])

                let head = try #require(try await daemon.allEvents().last?.position)
                let oldID = Appointment.id(inviteeURI: old), newID = Appointment.id(inviteeURI: new)
                let before = try await daemon.call(.get, "/appointments/\(oldID)?min_position=\(head)")
                #expect(before.json["status"] as? String == "rescheduled")
                #expect(before.json["rescheduled_to"] as? String == newID)
                #expect(before.json["expert_id"] as? String == "grace")
                let after = try await daemon.call(.get, "/appointments/\(newID)")
                #expect(after.json["status"] as? String == "scheduled")
                #expect(after.json["rescheduled_from"] as? String == oldID)
                #expect(after.json["start_time"] as? String == start)
                #expect(after.json["expert_id"] as? String == "grace")
            }
        }
    }
}
