// Open MPI, loaded at run time: the package builds and runs without MPI, and a process launched by mpirun or srun
// loads libmpi when it starts. Each call returns MPI's status (0 = success); the others abort the job themselves
// (MPI_ERRORS_ARE_FATAL).
#pragma once
#include <stddef.h>

// Loads libmpi and initialises MPI (thread level SERIALIZED). Returns 0, or nonzero with a reason in `error`.
int rlhf_mpi_start(char *error, size_t error_length);
int rlhf_mpi_rank(void);
int rlhf_mpi_size(void);
// Sums `count` values over every rank, in place.
int rlhf_mpi_sum_floats(float *values, size_t count);
int rlhf_mpi_sum_doubles(double *values, size_t count);
int rlhf_mpi_barrier(void);
// Ends every rank of the job.
void rlhf_mpi_abort(int code);
int rlhf_mpi_finish(void);
