"""Anchor for bench/gridsearch.ts: the seed's script (scikit-learn's "Parameter estimation using grid
search with cross-validation" on digits), unchanged in substance, with an --n-jobs option.

    /usr/bin/python3 bench/gridsearch_sklearn.py [--n-jobs N]

Prints the seed's text, then one machine-readable line per scorer for the benchmark driver:
    BENCH_BEST <score> <json of best_params_>
and a final `BENCH_SEARCH_SECONDS <s>` (sum of the GridSearchCV.fit calls, for information only;
the driver measures whole-process wall time itself).
"""
import argparse
import json
import time

from sklearn import datasets
from sklearn.metrics import classification_report
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.svm import SVC

parser = argparse.ArgumentParser()
parser.add_argument("--n-jobs", type=int, default=1)
args = parser.parse_args()

# Loading the Digits dataset
digits = datasets.load_digits()

# To apply an classifier on this data, we need to flatten the image, to
# turn the data in a (samples, feature) matrix:
n_samples = len(digits.images)
X = digits.images.reshape((n_samples, -1))
y = digits.target

# Split the dataset in two equal parts
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, random_state=0)

# Set the parameters by cross-validation
tuned_parameters = [
    {"kernel": ["rbf"], "gamma": [1e-3, 1e-4], "C": [1, 10, 100, 1000]},
    {"kernel": ["linear"], "C": [1, 10, 100, 1000]},
]

scores = ["precision", "recall"]
search_seconds = 0.0
best = {}

for score in scores:
    print("# Tuning hyper-parameters for %s" % score)
    print()

    clf = GridSearchCV(SVC(), tuned_parameters, scoring="%s_macro" % score, n_jobs=args.n_jobs)
    t0 = time.perf_counter()
    clf.fit(X_train, y_train)
    search_seconds += time.perf_counter() - t0

    print("Best parameters set found on development set:")
    print()
    print(clf.best_params_)
    print()
    print("Grid scores on development set:")
    print()
    means = clf.cv_results_["mean_test_score"]
    stds = clf.cv_results_["std_test_score"]
    for mean, std, params in zip(means, stds, clf.cv_results_["params"]):
        print("%0.3f (+/-%0.03f) for %r" % (mean, std * 2, params))
    print()

    print("Detailed classification report:")
    print()
    print("The model is trained on the full development set.")
    print("The scores are computed on the full evaluation set.")
    print()
    y_true, y_pred = y_test, clf.predict(X_test)
    print(classification_report(y_true, y_pred))
    print()
    best["%s_macro" % score] = clf.best_params_

for name, params in best.items():
    print("BENCH_BEST %s %s" % (name, json.dumps(params, sort_keys=True)))
print("BENCH_SEARCH_SECONDS %.6f" % search_seconds)
