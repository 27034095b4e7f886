# Import the dataset into your database (`lab`):
#   data/tweets.json -> collection tweets
#   data/users.json  -> collection users
# with `datalab mongo import COLLECTION --file FILE --drop`.
# TODO
