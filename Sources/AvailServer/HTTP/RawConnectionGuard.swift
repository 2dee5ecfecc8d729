import HTTPTypes
import NIOCore

/// Bytes, before the HTTP decoder: counts the connection, and tells the guard of its opening,
/// its bytes, a full socket and its end (refused past the bound, the request time-out from a
/// request's first byte, the write time-out: `ConnectionGuardStateMachine` decides).
final class RawConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let state: ConnectionGuardState

    init(state: ConnectionGuardState) {
        self.state = state
    }

    func handlerAdded(context: ChannelHandlerContext) {
        state.rawContext = context
        let within = state.connections.open(limit: state.limits.maxConnections)
        state.handle { $0.opened(withinBound: within) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        state.handle { $0.ended() }
        state.rawContext = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        state.handle { $0.ended() }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = ConnectionGuardStateMachine.Bytes.drop
        state.handle { machine in
            let (decision, action) = machine.bytesArrived()
            bytes = decision
            return action
        }
        if bytes == .forward { context.fireChannelRead(data) }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { state.handle { $0.writeResumed() } } else { state.handle { $0.writeStalled() } }
        context.fireChannelWritabilityChanged()
    }
}
