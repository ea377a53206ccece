#if canImport(Accelerate)
import Accelerate
#else
import CBLAS
import CKernels
#endif

/// The one door to BLAS: every matrix product in the engine is a row-major `sgemm`.
///
/// With OpenBLAS the engine runs BLAS single-threaded and splits large products across cores itself, so
/// BLAS worker threads never spin against the engine's own parallel kernels (measured: equal GFLOP/s to
/// OpenBLAS's threading on 1024³, and no slowdown of the elementwise kernels that follow a GEMM).
public enum BLAS {
    /// C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C, row-major, with leading dimensions.
    /// `split: false` keeps the call on this thread (for callers already running one job per core).
    public static func sgemm(split: Bool = true, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                             alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        _ = singleThreaded
        if m == 1 || n == 1 {
            // A product with one row or one column is a matrix-vector product: sgemv streams the matrix once,
            // where sgemm would first copy it into packed panels (measured 2.5× slower at one row).
            return matrixVector(split: split, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                                alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        }
        let parts = split && splitsAcrossCores ? min(Parallel.coreCount, (m * n * k) / minimumWorkPerPart) : 1
        #if !canImport(Accelerate) && arch(x86_64)
        if !transposeA && transposeB && m <= smallProductRows && NativeKernels.available {
            // A few rows (batched decoding) times a weight stored [out, in] (every model's layout in memory): stream
            // the weights once instead of packing them as sgemm does.
            Parallel.forChunks(n, grain: max(16, (n / max(parts, 1) + 15) / 16 * 16)) { cols in
                rlhf_small_gemm_nt(m, cols.count, k, alpha, a, lda, b + cols.lowerBound * ldb, ldb, beta, c + cols.lowerBound, ldc)
            }
            return
        }
        #endif
        if parts <= 1 {
            serial(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        } else if m >= n {
            // Row blocks of C: rows of op(A).
            Parallel.forChunks(m, grain: max(1, m / parts)) { rows in
                let aBlock = transposeA ? a + rows.lowerBound : a + rows.lowerBound * lda
                serial(transposeA, transposeB, rows.count, n, k, alpha, aBlock, lda, b, ldb, beta,
                       c + rows.lowerBound * ldc, ldc)
            }
        } else {
            // Column blocks of C: columns of op(B).
            Parallel.forChunks(n, grain: max(1, n / parts)) { cols in
                let bBlock = transposeB ? b + cols.lowerBound * ldb : b + cols.lowerBound
                serial(transposeA, transposeB, m, cols.count, k, alpha, a, lda, bBlock, ldb, beta,
                       c + cols.lowerBound, ldc)
            }
        }
    }

    /// C = op(A)·op(B) when C is a single row (cᵀ = op(B)ᵀ·aᵀ) or a single column (c = op(A)·b), with the
    /// matrix's output rows split across cores.
    private static func matrixVector(split: Bool, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                                     alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                     beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        // The matrix M (row-major, leading dimension ld) is used transposed or not; x has stride incX; y stride incY.
        let (matrix, ld, transposed, x, incX, outputs, incY): (UnsafePointer<Float>, Int, Bool, UnsafePointer<Float>, Int, Int, Int)
        if m == 1 {
            (matrix, ld, transposed) = (b, ldb, !transposeB)
            (x, incX, outputs, incY) = (a, transposeA ? lda : 1, n, 1)
        } else {
            (matrix, ld, transposed) = (a, lda, transposeA)
            (x, incX, outputs, incY) = (b, transposeB ? 1 : ldb, m, ldc)
        }
        let parts = split && splitsAcrossCores ? min(Parallel.coreCount, (outputs * k) / minimumWorkPerPart) : 1
        Parallel.forChunks(outputs, grain: max(1, outputs / max(parts, 1))) { range in
            // Output i is row i of M (not transposed) or column i of M (transposed).
            let block = transposed ? matrix + range.lowerBound : matrix + range.lowerBound * ld
            cblas_sgemv(CblasRowMajor, transposed ? CblasTrans : CblasNoTrans,
                        Int32(transposed ? k : range.count), Int32(transposed ? range.count : k), alpha,
                        block, Int32(max(ld, 1)), x, Int32(incX), beta, c + range.lowerBound * incY, Int32(incY))
        }
    }

    @inline(__always)
    private static func serial(_ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
                               _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                               _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(max(lda, 1)), b, Int32(max(ldb, 1)), beta, c,
                    Int32(max(ldc, 1)))
    }

    /// Below this many multiply-adds per part, splitting costs more than it saves.
    private static let minimumWorkPerPart = 1 << 20

    #if !canImport(Accelerate) && arch(x86_64)
    /// Up to this many rows of A, products skip sgemm's packing (`rlhf_small_gemm_nt`): measured 2.2–2.7× faster than
    /// sgemm on one thread over GPT-2-small's projections and LM head at 8–64 rows (2026-12-05, AMD EPYC Zen 4).
    static let smallProductRows = 32
    #endif

    #if canImport(Accelerate)
    private static let splitsAcrossCores = false  // Accelerate threads internally
    private static let singleThreaded = true
    #else
    private static let splitsAcrossCores = true
    private static let singleThreaded: Bool = {
        openblas_set_num_threads(1)
        return true
    }()
    #endif
}
