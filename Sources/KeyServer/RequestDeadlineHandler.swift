import NIOCore
import NIOHTTPTypes

/// Deadlines the idle timer does not give: a request whose head arrived but whose body has not
/// all arrived within `timeout` (a client trickling a byte at a time), and a response not all
/// handed to the network within `timeout` (a client that never reads, so its answers pile up in
/// the server). Either closes the connection. Connections that send nothing at all are the idle
/// timeout's job.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let timeout: TimeAmount
    private var reading: Scheduled<Void>?
    private var writing: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            reading?.cancel()
            reading = closing(context)
        case .end:
            reading?.cancel()
            reading = nil
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head:
            if writing == nil { writing = closing(context) }
            context.write(data, promise: promise)
        case .end:
            // Written means handed to the socket: a reader that keeps up lets this complete.
            let written = promise ?? context.eventLoop.makePromise()
            written.futureResult.whenComplete { [weak self] _ in
                self?.writing?.cancel()
                self?.writing = nil
            }
            context.write(data, promise: written)
        case .body:
            context.write(data, promise: promise)
        }
    }

    private func closing(_ context: ChannelHandlerContext) -> Scheduled<Void> {
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        return context.eventLoop.scheduleTask(in: timeout) { loopBound.value.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelAll()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelAll()
        context.fireChannelInactive()
    }

    private func cancelAll() {
        reading?.cancel()
        writing?.cancel()
        reading = nil
        writing = nil
    }
}
