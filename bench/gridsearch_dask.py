"""Anchor for bench/gridsearch.ts: the seed's grid search run on a local Dask cluster.

    /usr/bin/python3 bench/gridsearch_dask.py

LocalCluster(n_workers=2, threads_per_worker=1) + Client, then scikit-learn's GridSearchCV (precision
then recall, seed grid) under joblib.parallel_backend('dask'). dask-ml (dask_ml.model_selection.
GridSearchCV) is not packaged in Debian, so the joblib backend is the Dask path used here.

Prints, for the benchmark driver:
    BENCH_NOTE <text>
    BENCH_CLUSTER_START_SECONDS <s>      LocalCluster + Client creation
    BENCH_SEARCH_SECONDS <s>             both GridSearchCV.fit calls under the dask backend
    BENCH_BEST <score> <json of best_params_>
"""
import json
import time

import joblib
from dask.distributed import Client, LocalCluster
from sklearn import datasets
from sklearn.metrics import classification_report
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.svm import SVC

def main():
    # Inside main(): the worker processes re-import this module and must not print it again.
    try:
        import dask_ml  # noqa: F401
        print("BENCH_NOTE dask-ml is installed but not used (the joblib 'dask' backend is measured)")
    except ImportError:
        print("BENCH_NOTE dask-ml is not packaged in Debian (not installed); using joblib.parallel_backend('dask') with sklearn's GridSearchCV")
    digits = datasets.load_digits()
    n_samples = len(digits.images)
    X = digits.images.reshape((n_samples, -1))
    y = digits.target
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, random_state=0)
    tuned_parameters = [
        {"kernel": ["rbf"], "gamma": [1e-3, 1e-4], "C": [1, 10, 100, 1000]},
        {"kernel": ["linear"], "C": [1, 10, 100, 1000]},
    ]

    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    start_s = time.perf_counter() - t0
    print("BENCH_CLUSTER_START_SECONDS %.6f" % start_s)

    best = {}
    search_s = 0.0
    try:
        for score in ["precision", "recall"]:
            print("# Tuning hyper-parameters for %s" % score)
            print()
            clf = GridSearchCV(SVC(), tuned_parameters, scoring="%s_macro" % score)
            t1 = time.perf_counter()
            with joblib.parallel_backend("dask"):
                clf.fit(X_train, y_train)
            search_s += time.perf_counter() - t1
            print("Best parameters set found on development set:")
            print()
            print(clf.best_params_)
            print()
            y_true, y_pred = y_test, clf.predict(X_test)
            print(classification_report(y_true, y_pred))
            best["%s_macro" % score] = clf.best_params_
    finally:
        client.close()
        cluster.close()

    print("BENCH_SEARCH_SECONDS %.6f" % search_s)
    for name, params in best.items():
        print("BENCH_BEST %s %s" % (name, json.dumps(params, sort_keys=True)))


if __name__ == "__main__":
    main()
