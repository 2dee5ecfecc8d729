import AvailTesting
import Foundation
import NIOHTTP1
import Testing

/// `availd calendly reconcile` (the README, "Staying in sync with Calendly") as a real
/// process, beside a running daemon on either backend, against the stand-in `availd-sim
/// calendly`: an expert connected with the organization token, bookings Calendly never delivered.
@Suite(.serialized) struct CalendlyReconcileCommandTests {
    func reconcile(_ arguments: [String], database: String, standIn: StandInProcess) async throws -> AvaildProcess.Completed {
        try await AvaildProcess.run(
            ["calendly", "reconcile"] + arguments
                + ["--database", database, "--calendly-api", standIn.url, "--calendly-token", StandInProcess.admin.token])
    }

    @Test(arguments: Backend.allCases)
    func reconcileAppendsWhatWasNeverDeliveredOnceAndTheDaemonServesIt(backend: Backend) async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = try backend.database(in: folder)
        let standIn = try await StandInProcess.start()
        defer { standIn.stop() }
        let (daemon, port) = try await AvaildProcess.serve([
            "--database", database, "--calendly-api", standIn.url, "--calendly-token", StandInProcess.admin.token,
            "--reconcile-interval", "0", "--admin-token", adminToken,
        ] + backend.sharedSecrets)
        let admin = adminToken
        let base = "http://127.0.0.1:\(port)"
        #expect(try await StandInProcess.send(
            .PUT, base + "/experts/ada", bearer: admin,
            json: #"{"name":"Ada","email":"ada.lovelace@experts.example","timezone":"Europe/London"}"#).status == 200)
        let connected = try await StandInProcess.send(
            .PUT, base + "/experts/ada/integration", bearer: admin,
            json: #"{"type":"calendly","event_types":["\#(StandInProcess.adaThirty)"]}"#)
        #expect(connected.status == 200, "\(connected.body)")
        // No subscription reaches this daemon: Calendly tells it nothing of these.
        for invitee in ["Iris", "Jon"] { #expect(try await standIn.bookWithAda(invitee: invitee) == 201) }

        let first = try await reconcile([], database: database, standIn: standIn)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(lines(first.stdout, startingWith: "expert ") == ["expert ada events 2 invitees 2 appended 2 requests 3"])
        #expect(lines(first.stdout, startingWith: "reconciled ") == ["reconciled 1 experts, appended 2"])
        let events = try await StandInProcess.send(.GET, base + "/events", bearer: admin).json["events"] as? [[String: Any]] ?? []
        #expect(events.filter { $0["source"] as? String == "reconcile" }.map { $0["type"] as? String } == ["calendly.invitee_observed", "calendly.invitee_observed"])
        // The daemon's projector folds what another process appended.
        var served: [[String: Any]] = []
        for _ in 0..<100 {
            served = try await StandInProcess.send(.GET, base + "/experts/ada/appointments", bearer: admin).json["appointments"] as? [[String: Any]] ?? []
            if served.count == 2 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(Set(served.compactMap { ($0["invitee"] as? [String: Any])?["name"] as? String }) == ["Iris", "Jon"])

        // Again: the log says it all now, and the events it knows whole are not asked about.
        let second = try await reconcile(["--expert", "ada"], database: database, standIn: standIn)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(lines(second.stdout, startingWith: "expert ") == ["expert ada events 2 invitees 0 appended 0 requests 1"])

        // A window that starts after both bookings lists nothing.
        let later = try await reconcile(["--since", "2100-01-01T00:00:00Z"], database: database, standIn: standIn)
        #expect(lines(later.stdout, startingWith: "expert ") == ["expert ada events 0 invitees 0 appended 0 requests 1"])

        // On a terminal, how many experts are done of how many.
        let shown = try await runOnTerminal(
            ["calendly", "reconcile", "--database", database, "--calendly-api", standIn.url, "--calendly-token", StandInProcess.admin.token],
            environment: ["AVAILD_PROGRESS_INTERVAL": "0"])
        #expect(shown.status == 0, "\(shown.text)")
        #expect(shown.text.contains("reconcile: 1 of 1 experts (100%)"), "\(shown.text)")

        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit() == 0)
    }

    @Test(arguments: Backend.allCases)
    func anUnknownExpertOrABadTimeFailsClearly(backend: Backend) async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = try backend.database(in: folder)
        let standIn = try await StandInProcess.start()
        defer { standIn.stop() }
        let unknown = try await reconcile(["--expert", "nobody"], database: database, standIn: standIn)
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("there is no expert nobody"), "\(unknown.stderr)")
        let badTime = try await reconcile(["--since", "yesterday"], database: database, standIn: standIn)
        #expect(badTime.status != 0)
        #expect(badTime.stderr.contains("--since yesterday is not an RFC 3339 time"), "\(badTime.stderr)")
    }
}
