import AvailClient
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// URIs in Calendly's answers and deliveries are identifiers, called on the configured API by
/// their path with the bearer token: only Calendly's own API URIs of a shape the client knows
/// may become a request. Anything else is refused before a byte is sent.
@Suite struct CalendlyURITests {
    static let event = "4c2f1a8e-5b3d-4e6f-8a9b-0c1d2e3f4a5b"
    static let invitee = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"
    static let inviteeURI = "https://api.calendly.com/scheduled_events/\(event)/invitees/\(invitee)"

    /// Every request the stand-in was sent (but its own `/_sim` ones).
    func requestsSent(_ control: any TestClientProtocol) async throws -> Int {
        Int(String(buffer: try await control.execute(uri: "/_sim/requests", method: .get).body)) ?? -1
    }

    @Test(arguments: [
        "https://evil.example/scheduled_events/\(event)/invitees/\(invitee)",
        "https://api.calendly.com.evil.example/scheduled_events/\(event)/invitees/\(invitee)",
        "http://api.calendly.com/scheduled_events/\(event)/invitees/\(invitee)",
        "https://user@api.calendly.com/scheduled_events/\(event)/invitees/\(invitee)",
        "https://api.calendly.com:8443/scheduled_events/\(event)/invitees/\(invitee)",
        "https://api.calendly.com/scheduled_events/\(event)/invitees/\(invitee)?count=1",
        "https://api.calendly.com/scheduled_events/\(event)/invitees/\(invitee)#x",
        "https://api.calendly.com/scheduled_events/\(event)/invitees/..",
        "https://api.calendly.com/scheduled_events/%2E%2E/invitees/\(invitee)",
        "https://api.calendly.com/scheduled_events/\(event)/invitees/\(invitee)/cancellation",
        "https://api.calendly.com/users/me",
        "/scheduled_events/\(event)/invitees/\(invitee)",
        "scheduled_events/\(event)/invitees/\(invitee)",
        ".evil.example/scheduled_events/\(event)/invitees/\(invitee)",
        "",
    ])
    func anInviteeURIThatIsNotCalendlysSendsNothing(uri: String) async throws {
        try await withCalendly { (baseURL: String, control: any TestClientProtocol) async throws in
            await #expect(throws: CalendlyError.self) { try await CalendlyClientTests().client(baseURL).invitee(uri: uri) }
            #expect(try await requestsSent(control) == 0)
        }
    }

    @Test(arguments: ["\(event)/../../users/me", "\(event)?x=1", "\(event)#x", "", "..", "\(event)%2F", "a b", "\(event)/invitees"])
    func aScheduledEventThatIsNotAUUIDSendsNothing(uuid: String) async throws {
        try await withCalendly { (baseURL: String, control: any TestClientProtocol) async throws in
            await #expect(throws: CalendlyError.self) {
                try await CalendlyClientTests().client(baseURL).cancel(scheduledEvent: uuid, reason: nil)
            }
            #expect(try await requestsSent(control) == 0)
        }
    }

    /// Calendly's own URIs are called on the configured base URL (the stand-in) by their path.
    @Test func calendlysURIsAreCalledByTheirPath() async throws {
        try await withCalendly { (baseURL: String, control: any TestClientProtocol) async throws in
            let client = CalendlyClientTests().client(baseURL)
            await #expect(throws: CalendlyError.notFound("Resource Not Found: The invitee was not found")) {
                try await client.invitee(uri: Self.inviteeURI)
            }
            #expect(try await requestCount("/scheduled_events/\(Self.event)/invitees/\(Self.invitee)", control) == 1)
            await #expect(throws: CalendlyError.self) { try await client.cancel(scheduledEvent: Self.event, reason: "x") }
            #expect(try await requestCount("/scheduled_events/\(Self.event)/cancellation", control) == 1)
            #expect(try await client.me().slug == "marketplace-admin")
            #expect(try await requestsSent(control) == 3)
        }
    }
}
