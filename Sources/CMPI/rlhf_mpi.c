#include "rlhf_mpi.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>

// Open MPI's predefined handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ...) are the addresses of exported objects
// (ompi_mpi_comm_world, ...), and MPI_IN_PLACE is (void *)1: dlsym finds everything the calls need, with no headers.
typedef void *Handle;
#define IN_PLACE ((void *)1)
#define THREAD_SERIALIZED 2

static struct {
    int (*init_thread)(int *, char ***, int, int *);
    int (*comm_rank)(Handle, int *);
    int (*comm_size)(Handle, int *);
    int (*allreduce)(const void *, void *, int, Handle, Handle, Handle);
    int (*barrier)(Handle);
    int (*abort)(Handle, int);
    int (*finalize)(void);
    Handle world, float_type, double_type, sum;
} mpi;

static const char *const libraries[] = {"libmpi.so.40", "libmpi.so", "libmpi.40.dylib", "libmpi.dylib"};

static int resolve(void *library, const char *name, void **slot, char *error, size_t length) {
    *slot = dlsym(library, name);
    if (*slot) return 0;
    snprintf(error, length, "libmpi has no %s (only Open MPI is supported)", name);
    return 1;
}

int rlhf_mpi_start(char *error, size_t length) {
    void *library = NULL;
    for (size_t i = 0; i < sizeof libraries / sizeof *libraries && !library; i++) {
        // Open MPI's plugins resolve libmpi's symbols through the global namespace.
        library = dlopen(libraries[i], RTLD_NOW | RTLD_GLOBAL);
    }
    if (!library) {
        snprintf(error, length, "cannot load Open MPI's libmpi.so.40 (%s); install Open MPI (Debian: openmpi-bin)", dlerror());
        return 1;
    }
    struct { const char *name; void **slot; } symbols[] = {
        {"MPI_Init_thread", (void **)&mpi.init_thread}, {"MPI_Comm_rank", (void **)&mpi.comm_rank},
        {"MPI_Comm_size", (void **)&mpi.comm_size}, {"MPI_Allreduce", (void **)&mpi.allreduce},
        {"MPI_Barrier", (void **)&mpi.barrier}, {"MPI_Abort", (void **)&mpi.abort},
        {"MPI_Finalize", (void **)&mpi.finalize}, {"ompi_mpi_comm_world", &mpi.world}, {"ompi_mpi_float", &mpi.float_type},
        {"ompi_mpi_double", &mpi.double_type}, {"ompi_mpi_op_sum", &mpi.sum},
    };
    for (size_t i = 0; i < sizeof symbols / sizeof *symbols; i++) {
        if (resolve(library, symbols[i].name, symbols[i].slot, error, length)) return 1;
    }
    int provided = 0;
    int status = mpi.init_thread(NULL, NULL, THREAD_SERIALIZED, &provided);
    if (status != 0) {
        snprintf(error, length, "MPI_Init_thread failed (status %d)", status);
        return 1;
    }
    return 0;
}

int rlhf_mpi_rank(void) {
    int rank = 0;
    mpi.comm_rank(mpi.world, &rank);
    return rank;
}

int rlhf_mpi_size(void) {
    int size = 1;
    mpi.comm_size(mpi.world, &size);
    return size;
}

// MPI counts are ints: longer buffers go in pieces.
static int sum_in_place(char *values, size_t count, size_t element, Handle type) {
    const size_t piece = INT_MAX / 2;
    for (size_t done = 0; done < count; done += piece) {
        size_t n = count - done < piece ? count - done : piece;
        int status = mpi.allreduce(IN_PLACE, values + done * element, (int)n, type, mpi.sum, mpi.world);
        if (status != 0) return status;
    }
    return 0;
}

int rlhf_mpi_sum_floats(float *values, size_t count) { return sum_in_place((char *)values, count, sizeof(float), mpi.float_type); }

int rlhf_mpi_sum_doubles(double *values, size_t count) { return sum_in_place((char *)values, count, sizeof(double), mpi.double_type); }

int rlhf_mpi_barrier(void) { return mpi.barrier(mpi.world); }

void rlhf_mpi_abort(int code) { mpi.abort(mpi.world, code); }

int rlhf_mpi_finish(void) { return mpi.finalize(); }
