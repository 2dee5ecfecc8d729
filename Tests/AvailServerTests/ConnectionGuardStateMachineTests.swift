import HTTPTypes
import Testing

@testable import AvailServer

/// The connection guard's decisions as values: events in, actions out, no socket and no sleep.
/// (`ServerLimitsTests` drives the same guard over real sockets.)
@Suite struct ConnectionGuardStateMachineTests {
    typealias Machine = ConnectionGuardStateMachine

    static var limits: ServerLimits {
        var limits = ServerLimits()
        limits.idleTimeout = .seconds(60)
        limits.requestTimeout = .seconds(30)
        limits.writeTimeout = .seconds(20)
        limits.maxHeaderBytes = 1024
        limits.retryAfterSeconds = 7
        return limits
    }

    /// A machine whose connection opened within the bound.
    func opened() -> Machine {
        var machine = Machine(limits: Self.limits)
        #expect(machine.opened(withinBound: true) == .startTimer(.idle, .seconds(60)))
        return machine
    }

    @Test func aRequestRunsTheRequestTimeoutUntilItsEndThenNoneUntilAnsweredThenIdles() {
        var machine = opened()
        let (bytes, action) = machine.bytesArrived()
        #expect(bytes == .forward)
        #expect(action == .startTimer(.request, .seconds(30)))
        #expect(machine.phase == .receiving)
        // More bytes and the head of the same request change nothing.
        #expect(machine.bytesArrived() == (.forward, .none))
        #expect(machine.requestHeadRead() == .none)
        #expect(machine.requestEndRead() == .cancelTimer)
        #expect(machine.phase == .answering)
        // A slow answer is ours: no timer fires against it.
        #expect(machine.timerFired(.request) == .none)
        #expect(machine.timerFired(.idle) == .none)
        machine.responseHeadWritten()
        #expect(machine.responseEndWritten() == .startTimer(.idle, .seconds(60)))
        #expect(machine.phase == .idle)
        // Kept alive: the next request starts the request time-out again.
        #expect(machine.bytesArrived() == (.forward, .startTimer(.request, .seconds(30))))
    }

    @Test func anIdleConnectionClosesQuietlyAndAReplacedTimerDoesNothing() {
        var machine = opened()
        _ = machine.bytesArrived()
        // The idle timer replaced by the request's fires late: nothing.
        #expect(machine.timerFired(.idle) == .none)
        #expect(machine.phase == .receiving)
        _ = machine.requestEndRead()
        _ = machine.responseEndWritten()
        #expect(machine.timerFired(.idle) == .close)
        #expect(machine.phase == .closing)
        #expect(machine.bytesArrived() == (.drop, .none))
        #expect(machine.timerFired(.idle) == .none)
    }

    @Test func aRequestNotReceivedInTimeIs408WithAProblemUnlessTheAnswerBegan() {
        var machine = opened()
        _ = machine.bytesArrived()
        #expect(machine.timerFired(.request) == .refuse(.init(
            status: .requestTimeout, code: .requestTimeout, detail: "the request was not received within 30 s",
            retryAfter: nil, writesProblem: true)))
        #expect(machine.phase == .closing)
        #expect(machine.bytesArrived() == (.drop, .none))
        #expect(machine.timerFired(.request) == .none, "refused once")

        // Answered before its body (a 401), whose body then never comes: the 408 cannot be
        // written over the answer already sent; the connection just closes.
        var answered = opened()
        _ = answered.bytesArrived()
        answered.responseHeadWritten()
        #expect(answered.responseEndWritten() == .none)
        #expect(answered.phase == .receiving)
        guard case .refuse(let refusal) = answered.timerFired(.request) else {
            Issue.record("no refusal")
            return
        }
        #expect(refusal.code == .requestTimeout && !refusal.writesProblem)
    }

    @Test func answeredBeforeItsBodyTheConnectionIdlesOnceTheBodyIsIn() {
        var machine = opened()
        _ = machine.bytesArrived()
        machine.responseHeadWritten()
        #expect(machine.responseEndWritten() == .none)
        #expect(machine.requestEndRead() == .startTimer(.idle, .seconds(60)))
        #expect(machine.phase == .idle)
        // The next request's answer is a new one: a refusal may write its problem again.
        _ = machine.bytesArrived()
        guard case .refuse(let refusal) = machine.parserFailed(.malformed("invalid method")) else {
            Issue.record("no refusal")
            return
        }
        #expect(refusal.writesProblem && refusal.status == .badRequest && refusal.code == .malformedRequest)
        #expect(refusal.detail == "the request is not well-formed HTTP/1.1 (invalid method)")
    }

    @Test func oversizedHeadersAre431NamingTheBound() {
        var machine = opened()
        _ = machine.bytesArrived()
        #expect(machine.parserFailed(.headersTooLarge) == .refuse(.init(
            status: .init(code: 431, reasonPhrase: "Request Header Fields Too Large"), code: .headersTooLarge,
            detail: "the request line and headers are larger than 1024 bytes", retryAfter: nil, writesProblem: true)))
        #expect(machine.parserFailed(.headersTooLarge) == .none)
    }

    @Test func pastTheBoundTheFirstBytesAre503AndSilenceClosesAfterASecond() {
        var refused = Machine(limits: Self.limits)
        #expect(refused.opened(withinBound: false) == .startTimer(.refusalGrace, .seconds(1)))
        // The request time-out never runs for it, nor the idle one.
        #expect(refused.timerFired(.request) == .none)
        #expect(refused.timerFired(.idle) == .none)
        let (bytes, action) = refused.bytesArrived()
        #expect(bytes == .drop, "its request never reaches the application")
        #expect(action == .refuse(.init(
            status: .serviceUnavailable, code: .overloaded, detail: "availd has too many open connections; retry later",
            retryAfter: 7, writesProblem: true)))
        #expect(refused.bytesArrived() == (.drop, .none))
        #expect(refused.ended() == .release(placeHeld: true), "its place was counted, and is given back")

        var silent = Machine(limits: Self.limits)
        _ = silent.opened(withinBound: false)
        #expect(silent.timerFired(.refusalGrace) == .close)
        // Within the bound, a grace timer means nothing.
        var within = opened()
        #expect(within.timerFired(.refusalGrace) == .none)
    }

    @Test func aFullSocketClosesTheConnectionUnlessTheClientReadsSomething() {
        var machine = opened()
        _ = machine.bytesArrived()
        _ = machine.requestEndRead()
        #expect(machine.writeStalled() == .startWriteTimer(.seconds(20)))
        #expect(machine.writeStalled() == .none, "one write timer at a time")
        // The client read some of it: another write time-out.
        #expect(machine.writeTimerFired(stillStalled: true, drained: true) == .startWriteTimer(.seconds(20)))
        // It reads nothing more: closed, so it does not hold its place for ever.
        #expect(machine.writeTimerFired(stillStalled: true, drained: false) == .close)
        #expect(machine.phase == .closing)
        #expect(machine.writeStalled() == .none)

        var resumed = opened()
        _ = resumed.writeStalled()
        #expect(resumed.writeResumed() == .cancelWriteTimer)
        #expect(resumed.writeResumed() == .none)
        #expect(resumed.writeTimerFired(stillStalled: true, drained: false) == .none, "a cancelled timer that fires late does nothing")

        var writable = opened()
        _ = writable.writeStalled()
        #expect(writable.writeTimerFired(stillStalled: false, drained: false) == .none)
        #expect(writable.phase == .idle)
    }

    @Test func theConnectionsPlaceIsGivenBackOnce() {
        var machine = opened()
        #expect(machine.ended() == .release(placeHeld: true))
        // The handler is removed after the channel went inactive: both say it ended.
        #expect(machine.ended() == .release(placeHeld: false))
    }
}
