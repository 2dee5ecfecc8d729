import AvailCore
import AvailStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// `POST /webhooks/calendly`: verify over the raw bytes, dedupe, append durably, acknowledge.
struct WebhookController: Sendable {
    static let signatureHeader = HTTPField.Name("Calendly-Webhook-Signature")!

    let signingKeys: [String]
    let tolerance: Int64
    let maxBodyBytes: Int
    let writer: LogWriter
    let deadLetters: any DeadLetterStore
    let metrics: AvailMetrics

    func addRoutes(to router: Router<some RequestContext>) {
        router.post("/webhooks/calendly") { request, context in
            try await self.receive(request, logger: context.logger)
        }
        // The same endpoint under any one more path segment: a replacement subscription is
        // created on a new URL before the old one is deleted (Calendly allows one per URL, and
        // a disabled one may still hold its URL), so both deliver here meanwhile.
        router.post("/webhooks/calendly/:suffix") { request, context in
            guard Self.isSuffix(context.parameters.get("suffix") ?? "") else {
                throw Problem.notFound("a webhook URL's last segment is 1 to 64 ASCII letters, digits, '-' or '_'")
            }
            return try await self.receive(request, logger: context.logger)
        }
    }

    /// What availd puts after `/webhooks/calendly/` when it registers a URL.
    static func isSuffix(_ text: String) -> Bool {
        (1...64).contains(text.utf8.count) && text.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == 0x2D || byte == 0x5F
        }
    }

    struct Acknowledgement: Encodable {
        var position: Int64
        var duplicate: Bool
    }

    func receive(_ request: Request, logger: Logger) async throws -> Response {
        do {
            let outcome = try await ingest(request, logger: logger)
            metrics.delivery(outcome.isDuplicate ? "duplicate" : "accepted")
            return try .json(
                Acknowledgement(position: outcome.position, duplicate: outcome.isDuplicate),
                status: outcome.isDuplicate ? .ok : .accepted
            )
        } catch let problem as Problem {
            metrics.delivery(problem.code.rawValue)
            throw problem
        }
    }

    private func ingest(_ request: Request, logger: Logger) async throws -> AppendOutcome {
        let receivedAt = Timestamp.now()
        let body = try await readBody(request)
        let signature = request.headers[values: Self.signatureHeader]
        let header = signature.isEmpty ? nil : signature.joined(separator: ",")
        do {
            try WebhookSignature.verify(
                header: header, body: body, keys: signingKeys, tolerance: tolerance, now: receivedAt.unixSeconds)
        } catch {
            logger.debug("webhook.refused", metadata: ["webhook.refusal": "\(error.rawValue)"])
            throw Problem(.unauthorized, code: ProblemCode(error), detail: Self.detail(for: error))
        }
        let delivery: Delivery
        do {
            delivery = try Delivery(body: body)
        } catch {
            try await deadLetter(body, receivedAt: receivedAt, signature: header, reason: error.reason, logger: logger)
            throw Problem(.badRequest, code: .invalidPayload, detail: error.reason)
        }
        do {
            let started = ContinuousClock.now
            let outcome = try await writer.append(NewEvent(delivery: delivery, signature: header, receivedAt: receivedAt))
            metrics.appendTook(ContinuousClock.now - started)
            logger.debug(
                "webhook.logged",
                metadata: ["webhook.event": "\(delivery.event)", "log.position": "\(outcome.position)",
                           "webhook.duplicate": "\(outcome.isDuplicate)"])
            return outcome
        } catch {
            throw Problem.unavailable("the delivery could not be stored; it was not acknowledged, retry later")
        }
    }

    /// Reads at most `maxBodyBytes`, failing as soon as more arrive (or are announced).
    private func readBody(_ request: Request) async throws -> Data {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBodyBytes {
            throw Self.tooLarge(maxBodyBytes)
        }
        do {
            let buffer = try await request.body.collect(upTo: maxBodyBytes)
            return Data(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw Self.tooLarge(maxBodyBytes)
        }
    }

    private func deadLetter(_ body: Data, receivedAt: Timestamp, signature: String?, reason: String, logger: Logger) async throws {
        do {
            try await deadLetters.add(
                receivedAt: receivedAt, code: PayloadRejection.code, reason: reason, body: body, signature: signature)
            logger.warning("webhook.dead_lettered", metadata: ["webhook.reason": "\(reason)"])
        } catch {
            // Not kept, so not refused with a 4xx either: Calendly must retry it later.
            logger.error("webhook.dead_letter_failed", metadata: ["error": "\(error)"])
            throw Problem.unavailable("the delivery could not be stored; it was not acknowledged, retry later")
        }
    }

    private static func tooLarge(_ limit: Int) -> Problem {
        Problem(.contentTooLarge, code: .payloadTooLarge, detail: "the body exceeds \(limit) bytes")
    }

    private static func detail(for failure: WebhookSignature.Failure) -> String {
        switch failure {
        case .missing: "the Calendly-Webhook-Signature header is missing"
        case .malformed: "the Calendly-Webhook-Signature header is not t=<seconds>,v1=<hex>"
        case .invalid: "no v1 signature matches a configured signing key"
        case .stale: "the signature timestamp is outside the allowed tolerance"
        }
    }
}
