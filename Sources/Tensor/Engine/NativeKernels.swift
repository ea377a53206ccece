#if !canImport(Accelerate) && arch(x86_64)
import CKernels
#endif

/// The C kernels of Sources/CKernels (AVX2 + FMA chosen at run time, x86-64 Linux): the Swift kernels' SIMD8 runs
/// as pairs of SSE operations without FMA, since the build targets every x86-64. Each returns nil where they are
/// not available, and the caller takes its Swift path.
enum NativeKernels {
    #if !canImport(Accelerate) && arch(x86_64)
    static let available = rlhf_kernels_available()
    #else
    static let available = false
    #endif

    /// GPT-2's tanh-approximated GELU of `x`.
    static func geluTanh(_ x: Tensor) -> Tensor? {
        #if !canImport(Accelerate) && arch(x86_64)
        guard available else { return nil }
        let out = Tensor(uninitializedShape: x.shape)
        let (source, destination) = (x.data, out.data)
        withExtendedLifetime(x) {
            Parallel.forChunks(x.count, grain: Parallel.minimumWork) { r in
                rlhf_gelu_tanh_forward(source + r.lowerBound, destination + r.lowerBound, r.count)
            }
        }
        return out
        #else
        return nil
        #endif
    }

    /// g · GELU'(x) for the same approximation.
    static func geluTanhGradient(_ g: Tensor, _ x: Tensor) -> Tensor? {
        #if !canImport(Accelerate) && arch(x86_64)
        guard available else { return nil }
        let out = Tensor(uninitializedShape: x.shape)
        let (gradient, input, destination) = (g.data, x.data, out.data)
        withExtendedLifetime((g, x)) {
            Parallel.forChunks(x.count, grain: Parallel.minimumWork) { r in
                rlhf_gelu_tanh_backward(gradient + r.lowerBound, input + r.lowerBound, destination + r.lowerBound, r.count)
            }
        }
        return out
        #else
        return nil
        #endif
    }
}
