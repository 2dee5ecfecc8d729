import HTTPTypes
import HummingbirdCore
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// HTTP parts, after the codec: ends the request time-out when a request is read, starts the
/// idle time-out when its answer is written, and turns parser errors into problems.
final class RequestPartsGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let state: ConnectionGuardState

    init(state: ConnectionGuardState) {
        self.state = state
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: state.handle { $0.requestHeadRead() }
        case .body: break
        case .end: state.handle { $0.requestEndRead() }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status.kind != .informational:
            state.handle {
                $0.responseHeadWritten()
                return .none
            }
            context.write(data, promise: promise)
        case .end:
            context.write(data, promise: promise)
            state.handle { $0.responseEndWritten() }
        default:
            context.write(data, promise: promise)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let error = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        let failure: ConnectionGuardStateMachine.ParserFailure = error == .headerOverflow ? .headersTooLarge : .malformed("\(error)")
        state.handle { $0.parserFailed(failure) }
    }
}
