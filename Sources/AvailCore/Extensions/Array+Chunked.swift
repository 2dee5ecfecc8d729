extension Array {
    /// The array in consecutive slices of `size` elements (the last one shorter): for
    /// statements that take a bounded number of rows or parameters at a time.
    public func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
