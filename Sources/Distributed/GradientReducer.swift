import Dispatch
import Tensor

/// Sums every rank's gradients, so that each rank holds the gradient of the whole global batch (each rank weighted
/// its loss by its share of the batch): gradients are packed into buckets, one all-reduce per bucket.
public final class GradientReducer {
    public let communicator: any Communicator
    private var bucket: [Float]
    /// Seconds the last `sum` took.
    public private(set) var lastSeconds = 0.0

    /// `bucketSize` values per all-reduce (16 MB by default): fewer, larger messages than one per parameter.
    public init(communicator: any Communicator, bucketSize: Int = 1 << 22) {
        self.communicator = communicator
        bucket = [Float](repeating: 0, count: bucketSize)
    }

    public func sum(_ parameters: [Parameter]) throws {
        let started = DispatchTime.now().uptimeNanoseconds
        defer { lastSeconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 }
        // A parameter no rank's loss reached keeps no gradient, as in one process (optimizers then skip it); one
        // that some rank's did gets zeros on the others before the sum.
        var reached = parameters.map { $0.grad == nil ? 0.0 : 1.0 }
        try communicator.sum(&reached)
        var pending: [Parameter] = [], filled = 0
        for (parameter, count) in zip(parameters, reached) where count > 0 {
            let size = parameter.value.count
            if size > bucket.count {
                try parameter.withMutableGradient(creating: true) { try communicator.sum($0) }
                continue
            }
            if filled + size > bucket.count { try flush(&pending, &filled) }
            bucket.withUnsafeMutableBufferPointer { bucket in
                parameter.withMutableGradient(creating: true) { bucket.baseAddress!.advanced(by: filled).update(from: $0.baseAddress!, count: size) }
            }
            pending.append(parameter)
            filled += size
        }
        try flush(&pending, &filled)
    }

    /// Sums the bucket's first `filled` values and copies them back into `pending`'s gradients.
    private func flush(_ pending: inout [Parameter], _ filled: inout Int) throws {
        guard filled > 0 else { return }
        try bucket.withUnsafeMutableBufferPointer { bucket in
            try communicator.sum(UnsafeMutableBufferPointer(rebasing: bucket[0..<filled]))
            var offset = 0
            for parameter in pending {
                parameter.withMutableGradient { $0.baseAddress!.update(from: bucket.baseAddress!.advanced(by: offset), count: $0.count) }
                offset += parameter.value.count
            }
        }
        (pending, filled) = ([], 0)
    }
}
