import AvailCore
import Testing

@Suite struct EventLinkTests {
    @Test(arguments: [
        ("https://calendly.com/ada-lovelace/30min", "https://calendly.com/ada-lovelace/30min"),
        ("https://www.calendly.com/ada-lovelace/30min/", "https://calendly.com/ada-lovelace/30min"),
        ("  https://calendly.com/ada_l/intro-call?month=2026-12#x ", "https://calendly.com/ada_l/intro-call"),
        ("HTTPS://Calendly.com/Ada/30min", "https://calendly.com/Ada/30min"),
    ])
    func acceptsWhatPeoplePaste(text: String, canonical: String) throws {
        #expect(try EventLink(parsing: text).description == canonical)
    }

    @Test(arguments: [
        "", "calendly.com/ada/30min", "http://calendly.com/ada/30min", "https://calendly.co/ada/30min",
        "https://evil.example/calendly.com/ada/30min", "https://calendly.com/ada", "https://calendly.com/ada/30min/extra",
        "https://calendly.com//30min", "https://calendly.com/ada/30 min", "https://calendly.com/ad%61/30min",
        "https://calendly.com.evil.example/ada/30min",
    ])
    func refusesAnythingElse(text: String) {
        #expect(throws: EventLinkError.self) { try EventLink(parsing: text) }
    }
}
