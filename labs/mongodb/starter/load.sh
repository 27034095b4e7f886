# Import the dataset into your database (`lab`):
#   "$DATALAB_LAB_DATA/tweets.json" -> collection tweets
#   "$DATALAB_LAB_DATA/users.json"  -> collection users
# ($DATALAB_LAB_DATA is the lab's data, set by datalab wherever your
# workspace is; data/ in your workspace is a copy to look at.)
# with `datalab mongo import COLLECTION --file FILE --drop`.
# TODO
