/// Which daemon projects, where several share one database: the one holding the lease. The
/// lease only decides who does the work; the checkpoint each batch's transaction checks keeps
/// the read models right even while two daemons both believe they hold it.
public protocol ProjectionLease: Sendable {
    /// Whether this daemon holds the lease now: taken if it is free, checked if already held.
    func holds() async -> Bool
    /// Gives the lease up (on shutdown), so that another daemon takes over at once.
    func release() async
}
