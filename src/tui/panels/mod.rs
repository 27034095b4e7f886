pub mod mapreduce;
