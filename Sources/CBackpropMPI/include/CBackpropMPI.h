#ifndef BACKPROP_CBACKPROPMPI_H
#define BACKPROP_CBACKPROPMPI_H

// MPI for data-parallel training, loaded at run time with dlopen, so that Backprop builds and runs
// without MPI installed. MPI_COMM_WORLD, MPI_SUM and the datatypes are macros (pointers to
// library globals in Open MPI, integer handles in MPICH), which Swift cannot call: these
// functions stand for them, for both ABIs.

#include <stdbool.h>
#include <stddef.h>

/// Loads libmpi (`library`, or the usual sonames when NULL) and calls MPI_Init. Returns 0, or
/// non-zero with a sentence in `error` (of `capacity` bytes).
int bp_mpi_start(const char *library, char *error, size_t capacity);
/// This process's rank in MPI_COMM_WORLD (0 before bp_mpi_start).
int bp_mpi_rank(void);
/// The number of ranks in MPI_COMM_WORLD (1 before bp_mpi_start).
int bp_mpi_size(void);
/// MPI_Allreduce with MPI_SUM of n values in place, in chunks of at most 2^30; 0 on success.
int bp_mpi_sum_f32(float *values, size_t n);
/// bp_mpi_sum_f32 for doubles.
int bp_mpi_sum_f64(double *values, size_t n);
/// MPI_Bcast of n values from `root`; 0 on success.
int bp_mpi_broadcast_f32(float *values, size_t n, int root);
/// bp_mpi_broadcast_f32 for doubles.
int bp_mpi_broadcast_f64(double *values, size_t n, int root);
/// MPI_Finalize, once.
void bp_mpi_finish(void);
/// MPI_Abort of MPI_COMM_WORLD: every rank stops.
void bp_mpi_abort(int code);
/// Whether the implementation loaded is Open MPI (else MPICH's ABI).
bool bp_mpi_is_open_mpi(void);

#endif
