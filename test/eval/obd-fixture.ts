/**
 * A tiny Open Bandit Dataset in the files' own format: item_context.csv (3 items, listed out of id
 * order) and an interactions file (4 impressions at positions 1–3, CRLF line ends, a trailing
 * empty line), for the parser's tests and the replay of it.
 */
export const OBD_ITEMS = [
  ',item_id,item_feature_0,item_feature_1,item_feature_2,item_feature_3',
  '0,0,-0.5,bb,x,p',
  '1,2,1.25,aa,y,p',
  '2,1,0.0,bb,y,q',
].join('\n');
export const OBD_MEN = [
  ',timestamp,item_id,position,click,propensity_score,user_feature_0,user_feature_1,user_feature_2,user_feature_3,user-item_affinity_0,user-item_affinity_1,user-item_affinity_2',
  '0,2019-11-24 00:00:01+00:00,2,1,0,0.3333333333333333,u1,v1,w1,z1,0.0,3.0,0.0',
  '1,2019-11-24 00:00:02+00:00,0,2,1,0.3333333333333333,u0,v1,w1,z1,0.0,0.0,0.0',
  '2,2019-11-24 00:00:03+00:00,1,3,0,0.3333333333333333,u1,v0,w1,z1,1.0,0.0,0.0',
  '3,2019-11-24 00:00:04+00:00,2,1,1,0.3333333333333333,u1,v1,w1,z1,0.0,0.0,7.0',
  '',
].join('\r\n');
