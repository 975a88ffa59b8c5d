/* The native reference of `commune bench startup`: MPI_Init, one 8-byte allreduce, a barrier, then the
 * slowest rank's init and first-collective times reduced to rank 0, which prints them as JSON, and
 * MPI_Finalize. Built with mpicc (Debian: libopenmpi-dev) by the bench into a temporary directory. */
#include <mpi.h>
#include <stdio.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  double t0 = now();
  MPI_Init(&argc, &argv);
  double t1 = now();
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  double one = 1.0, sum = 0.0;
  MPI_Allreduce(&one, &sum, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  double t2 = now();
  MPI_Barrier(MPI_COMM_WORLD);
  double mine[2] = { (t1 - t0) * 1e3, (t2 - t1) * 1e3 }, slowest[2];
  MPI_Reduce(mine, slowest, 2, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
  if (rank == 0) printf("STARTUP {\"p\":%d,\"sum\":%g,\"slowestInitMs\":%.3f,\"firstCollectiveMs\":%.3f}\n", size, sum, slowest[0], slowest[1]);
  MPI_Finalize();
  return 0;
}
