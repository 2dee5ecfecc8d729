@testable import AvailCore
import Testing

/// The byte-level shortcuts of making an appointment agree with what they replace.
@Suite struct AppointmentTests {
    @Test(arguments: [
        "https://api.calendly.com/scheduled_events/GBGBDCAADAEDCRZ2", "https://api.calendly.com/scheduled_events/E1/",
        "E1", "/E1", "E1//", "", "/", "///", "a/b//c///", "https://host/événement/é1", "https://host/e\u{301}/x\u{301}",
        "https://host/a/\u{301}", "https://host/a/b/\u{301}/",
    ])
    func theLastSegmentIsWhatSplittingGives(uri: String) {
        #expect(Appointment.lastSegment(uri) == uri.split(separator: "/").last.map(String.init))
    }

    @Test(arguments: ["", "plain", "https://x/\u{7f}", "é", "e\u{301}", "x\u{80}", "🚀", String(repeating: "a", count: 100) + "é"])
    func isASCIIIsEveryByteBelow0x80(text: String) {
        #expect(text.isASCII == text.utf8.allSatisfy { $0 < 0x80 })
    }
}
