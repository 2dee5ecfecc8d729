import Hummingbird

/// availd's request context: Hummingbird's core storage and the principal.
struct AvailRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    var principal: Principal = .anonymous

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }
}
