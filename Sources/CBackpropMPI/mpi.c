#include "CBackpropMPI.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>

// The two ABIs: Open MPI's handles are pointers to globals of the library, MPICH's (and its
// derivatives': Intel MPI, MVAPICH) are integers with fixed values from its mpi.h.
typedef int (*InitFunction)(int *, char ***);
typedef int (*FinalizeFunction)(void);
typedef int (*PointerRankFunction)(void *, int *);
typedef int (*IntegerRankFunction)(int, int *);
typedef int (*PointerAllreduceFunction)(const void *, void *, int, void *, void *, void *);
typedef int (*IntegerAllreduceFunction)(const void *, void *, int, int, int, int);
typedef int (*PointerBroadcastFunction)(void *, int, void *, int, void *);
typedef int (*IntegerBroadcastFunction)(void *, int, int, int, int);
typedef int (*PointerAbortFunction)(void *, int);
typedef int (*IntegerAbortFunction)(int, int);

static void *library_handle;
static bool open_mpi;
static bool finished;
static int rank_value = 0;
static int size_value = 1;
static void *mpi_allreduce, *mpi_bcast, *mpi_abort, *mpi_finalize;
// Open MPI's handles.
static void *world, *sum_op, *float_type, *double_type;

enum {
  MPICH_COMM_WORLD = 0x44000000,
  MPICH_SUM = 0x58000003,
  MPICH_FLOAT = 0x4c00040a,
  MPICH_DOUBLE = 0x4c00080b,
};

static int fail(char *error, size_t capacity, const char *what, const char *detail) {
  if (error && capacity > 0) snprintf(error, capacity, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
  return 1;
}

int bp_mpi_start(const char *library, char *error, size_t capacity) {
  if (library_handle) return 0;
  const char *names[] = {library, "libmpi.so.40", "libmpi.so.12", "libmpi.so"};
  const char *last = NULL;
  for (size_t index = library ? 0 : 1; index < sizeof names / sizeof *names; index++) {
    // RTLD_GLOBAL: Open MPI's plugins resolve libmpi's symbols from the global scope.
    library_handle = dlopen(names[index], RTLD_NOW | RTLD_GLOBAL);
    if (library_handle || library) break;
    last = dlerror();
  }
  if (!library_handle) {
    return fail(error, capacity, "libmpi could not be loaded (install Open MPI or MPICH)",
                library ? dlerror() : last);
  }
  InitFunction init = (InitFunction)dlsym(library_handle, "MPI_Init");
  void *comm_rank = dlsym(library_handle, "MPI_Comm_rank");
  void *comm_size = dlsym(library_handle, "MPI_Comm_size");
  mpi_allreduce = dlsym(library_handle, "MPI_Allreduce");
  mpi_bcast = dlsym(library_handle, "MPI_Bcast");
  mpi_abort = dlsym(library_handle, "MPI_Abort");
  mpi_finalize = dlsym(library_handle, "MPI_Finalize");
  if (!init || !comm_rank || !comm_size || !mpi_allreduce || !mpi_bcast || !mpi_abort ||
      !mpi_finalize) {
    return fail(error, capacity, "the MPI library lacks MPI_Init, MPI_Allreduce or another function", NULL);
  }
  world = dlsym(library_handle, "ompi_mpi_comm_world");
  open_mpi = world != NULL;
  if (open_mpi) {
    sum_op = dlsym(library_handle, "ompi_mpi_op_sum");
    float_type = dlsym(library_handle, "ompi_mpi_float");
    double_type = dlsym(library_handle, "ompi_mpi_double");
    if (!sum_op || !float_type || !double_type) {
      return fail(error, capacity, "Open MPI's handles for MPI_SUM, MPI_FLOAT or MPI_DOUBLE are missing", NULL);
    }
  }
  if (init(NULL, NULL) != 0) return fail(error, capacity, "MPI_Init failed", NULL);
  int status = open_mpi ? ((PointerRankFunction)comm_rank)(world, &rank_value)
                        : ((IntegerRankFunction)comm_rank)(MPICH_COMM_WORLD, &rank_value);
  status |= open_mpi ? ((PointerRankFunction)comm_size)(world, &size_value)
                     : ((IntegerRankFunction)comm_size)(MPICH_COMM_WORLD, &size_value);
  if (status != 0) return fail(error, capacity, "MPI_Comm_rank or MPI_Comm_size failed", NULL);
  return 0;
}

int bp_mpi_rank(void) { return rank_value; }
int bp_mpi_size(void) { return size_value; }
bool bp_mpi_is_open_mpi(void) { return open_mpi; }

// MPI counts are ints: larger buffers go in chunks of 2^30 elements.
static const size_t chunk = (size_t)1 << 30;

static int sum(void *values, size_t n, size_t element, bool is_double) {
  if (!library_handle) return 1;
  // MPI_IN_PLACE is (void *)1 in Open MPI and (void *)-1 in MPICH.
  void *in_place = open_mpi ? (void *)1 : (void *)(intptr_t)-1;
  for (size_t start = 0; start < n; start += chunk) {
    int count = (int)(n - start < chunk ? n - start : chunk);
    char *address = (char *)values + start * element;
    int status = open_mpi
      ? ((PointerAllreduceFunction)mpi_allreduce)(in_place, address, count,
                                                  is_double ? double_type : float_type, sum_op, world)
      : ((IntegerAllreduceFunction)mpi_allreduce)(in_place, address, count,
                                                  is_double ? MPICH_DOUBLE : MPICH_FLOAT, MPICH_SUM,
                                                  MPICH_COMM_WORLD);
    if (status != 0) return status;
  }
  return 0;
}

static int broadcast(void *values, size_t n, size_t element, bool is_double, int root) {
  if (!library_handle) return 1;
  for (size_t start = 0; start < n; start += chunk) {
    int count = (int)(n - start < chunk ? n - start : chunk);
    char *address = (char *)values + start * element;
    int status = open_mpi
      ? ((PointerBroadcastFunction)mpi_bcast)(address, count, is_double ? double_type : float_type,
                                              root, world)
      : ((IntegerBroadcastFunction)mpi_bcast)(address, count, is_double ? MPICH_DOUBLE : MPICH_FLOAT,
                                              root, MPICH_COMM_WORLD);
    if (status != 0) return status;
  }
  return 0;
}

int bp_mpi_sum_f32(float *values, size_t n) { return sum(values, n, sizeof(float), false); }
int bp_mpi_sum_f64(double *values, size_t n) { return sum(values, n, sizeof(double), true); }
int bp_mpi_broadcast_f32(float *values, size_t n, int root) {
  return broadcast(values, n, sizeof(float), false, root);
}
int bp_mpi_broadcast_f64(double *values, size_t n, int root) {
  return broadcast(values, n, sizeof(double), true, root);
}

void bp_mpi_finish(void) {
  if (!library_handle || finished) return;
  finished = true;
  ((FinalizeFunction)mpi_finalize)();
}

void bp_mpi_abort(int code) {
  if (!library_handle) return;
  if (open_mpi) ((PointerAbortFunction)mpi_abort)(world, code);
  else ((IntegerAbortFunction)mpi_abort)(MPICH_COMM_WORLD, code);
}
